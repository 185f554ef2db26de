// Dates from seconds since 1970, in UTC (the machine has no time zones): the civil-from-days
// algorithm, and the names GNU date uses in the C locale.

export const DAY_NAMES: string[] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
export const MONTH_NAMES: string[] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

export class CivilTime {
  year: i64 = 1970;
  /** 1 to 12. */
  month: i32 = 1;
  day: i32 = 1;
  hour: i32 = 0;
  minute: i32 = 0;
  second: i32 = 0;
  /** 0 Sunday. */
  weekday: i32 = 4;
  /** 1 to 366. */
  yearDay: i32 = 1;
}

function floorDiv(a: i64, b: i64): i64 {
  const q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

export function civil(seconds: i64): CivilTime {
  const t = new CivilTime();
  const days = floorDiv(seconds, 86400);
  const rest = seconds - days * 86400;
  t.hour = <i32>(rest / 3600);
  t.minute = <i32>((rest % 3600) / 60);
  t.second = <i32>(rest % 60);
  t.weekday = <i32>(((days % 7) + 11) % 7);
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  t.day = <i32>(doy - (153 * mp + 2) / 5 + 1);
  t.month = <i32>(mp < 10 ? mp + 3 : mp - 9);
  t.year = yoe + era * 400 + (t.month <= 2 ? 1 : 0);
  const leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
  const starts: i32[] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
  t.yearDay = starts[t.month - 1] + t.day + (leap && t.month > 2 ? 1 : 0);
  return t;
}

export function two(n: i64): string {
  return n < 10 ? "0" + n.toString() : n.toString();
}
