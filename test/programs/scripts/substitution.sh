# Command substitution, arithmetic, here-documents, printf.
today=$(echo 2024-05-01)
echo "day is $today, year ${today%%-*}"
lines=$(printf 'a\nb\nc\n')
echo "$lines"
echo $lines
count=`echo one two three | wc -w`
echo "words: $count"
echo "math: $((7 / 2)) $((7 % 3)) $(( (1 + 2) * 3 )) $((10 > 3 && 2 < 1)) $((1 << 4)) $((-7 / 2)) $((3 > 2 ? 10 : 20))"
x=10; : $((x += 5)); echo "x=$x"
cat <<EOF2
here-document with $x and $(echo substitution)
	tabs kept
EOF2
cat <<'EOF2'
quoted: $x stays $(as is)
EOF2
cat <<-EOF2
	leading tabs go
	EOF2
printf '%s=%d\n' a 1 b 2
printf '%5s|%-5s|%05d|%x|%o|%c\n' right left 42 255 8 zebra
printf 'percent %% and %s\n' done
echo "nested: $(echo "$(echo "deep $x")")"
