# Runs wordcount.sh as a program (its #! line) and with sh, on files it makes.
printf 'the quick brown\nfox jumps\n' > words1.txt
printf 'over the lazy dog\n\nagain\n' > words2.txt
sh "$1/wordcount.sh" words1.txt words2.txt
echo "status $?"
sh "$1/wordcount.sh" words1.txt missing.txt 2>/dev/null
echo "status $?"
sh "$1/wordcount.sh" 2>/dev/null
echo "status $?"
rm words1.txt words2.txt
