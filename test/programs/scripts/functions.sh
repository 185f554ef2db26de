# Functions: arguments, return, local, recursion, output captured.
greet() {
  echo "hello $1 ($# args)"
  return 7
}
greet world extra
echo "returned $?"
fact() {
  if [ "$1" -le 1 ]; then echo 1; return; fi
  local rest
  rest=$(fact $(($1 - 1)))
  echo $(($1 * rest))
}
echo "5! = $(fact 5)"
counter=0
bump() { counter=$((counter + 1)); }
bump; bump; bump
echo "counter $counter"
scoped() { local counter=100; echo "inside $counter"; }
scoped
echo "outside $counter"
args() { for a; do printf '%s|' "$a"; done; echo; }
args one "two three" "" four
set -- x y
show() { echo "in function: $1"; }
show inner
echo "outside again: $1"
twice() { "$@"; "$@"; }
twice echo repeated
