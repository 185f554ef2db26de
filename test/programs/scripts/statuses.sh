# Exit statuses as POSIX shells give them.
nosuchcommand 2>/dev/null; echo "not found: $?"
true; echo "true: $?"; false; echo "false: $?"
sh -c 'exit 42'; echo "sh -c exit: $?"
f() { return 3; }; f; echo "function: $?"
! true; echo "negated true: $?"
grep -q zzz /dev/null; echo "grep no match: $?"
x=$(false); echo "substitution: $?"
y=$(exit 5); echo "substitution exit: $?"
set -e
echo "before errexit"
false || true
if false; then :; fi
echo "survived conditions"
(false) || echo "subshell failed"
echo "end"
exit 4
