# Variables, quoting, parameter expansion, field splitting.
name="Dogma shell"
empty=
echo "hello, $name" 'single $name' "${name}!" $empty end
unset gone
echo "default: ${gone:-fallback} ${gone-unset} ${empty:-was empty} [${empty-}]"
echo "assigned: ${gone:=now set} $gone"
echo "alternate: ${name:+yes} [${missing:+no}]"
path=/usr/local/lib/libdogma.so.1
echo "${path##*/} ${path#*/} ${path%/*} ${path%%.*}"
echo "length: ${#name} ${#path}"
words="one two   three"
for w in $words; do echo "[$w]"; done
for w in "$words"; do echo "[$w]"; done
set -- first "second arg" third
echo "count $#: $1 / $2 / $3"
for a in "$@"; do echo "arg <$a>"; done
for a in $@; do echo "split <$a>"; done
echo "star: $*"
shift
echo "after shift: $# $1"
x=5; y=x
echo "nested ${x} $(echo "in $(echo nested)") \$x"
IFS=:; set -- $(echo a:b:c); IFS=' '
echo "colon split: $# $2"
echo ~ | grep -q / && echo tilde ok
