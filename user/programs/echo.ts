// Prints its arguments joined by spaces, then a newline.
import { print, args } from "../lib";

print(args().slice(1).join(" "));
