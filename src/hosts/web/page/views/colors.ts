/** A color per pid that neighbours can tell apart (golden-angle hues); pid 0 (the kernel) is gray. */
export function pidColor(pid: number, alpha = 1): string {
  if (pid === 0) return `rgba(120, 128, 136, ${alpha})`;
  return `hsla(${(pid * 137.508) % 360}, 70%, 58%, ${alpha})`;
}
