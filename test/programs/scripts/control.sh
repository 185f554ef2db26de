# if, while, until, for, case, break, continue, ! and exit statuses.
for i in 1 2 3 4 5 6; do
  if [ "$i" -eq 2 ]; then continue; fi
  if [ $i -gt 4 ]; then break; fi
  echo "i=$i"
done
n=0
while [ $n -lt 3 ]; do n=$((n + 1)); echo "while $n"; done
until [ $n -eq 0 ]; do n=$((n - 1)); done; echo "until done: $n"
for f in apple banana cherry date; do
  case $f in
    a*) echo "$f starts with a" ;;
    b*|c*) echo "$f starts with b or c" ;;
    *) echo "$f is something else" ;;
  esac
done
case "x y" in "x y") echo quoted pattern;; esac
case 7 in [0-9]) echo digit;; *) echo not;; esac
if false; then echo no; elif true; then echo elif taken; else echo no; fi
! false && echo negated
false || echo "or ran after $?"
true && echo "and ran"
false; echo "status $?"
(exit 3); echo "subshell status $?"
for outer in a b; do for inner in 1 2 3; do [ $inner = 2 ] && continue 2; echo "$outer$inner"; done; done
i=0; while :; do i=$((i+1)); [ $i -ge 3 ] && break; done; echo "loop left at $i"
test -z "" && test -n x && [ "a" != "b" ] && [ 3 -le 4 ] && echo tests pass
[ ! -d /nonexistent ] && echo no such directory
