// Divides by a runtime zero (first argument, default 0): must fault as `divide-by-zero`.
import { print, args } from "../lib";

const argv = args();
const divisor = argv.length > 1 ? i32.parse(argv[1]) : 0;
print("100 / " + divisor.toString() + " = " + (100 / divisor).toString());
