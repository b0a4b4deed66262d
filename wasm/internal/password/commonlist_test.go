package password

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate common.txt")

// TestCommonListGenerated checks that common.txt is exactly what
// generateCommon produces; run with -update after changing the generator.
// The list is built from well-known password habits, not copied from a
// leak: the most common passwords, keyboard walks, digit runs, common
// words and names with the digits and years people add, and predictable
// substitutions.
func TestCommonListGenerated(t *testing.T) {
	want := generateCommon(t)
	if *update {
		if err := os.WriteFile("common.txt", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("common.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("common.txt is stale; run go test ./wasm/internal/password/ -run TestCommonListGenerated -update")
	}
	n := bytes.Count(got, []byte("\n"))
	if n < 3000 || n > 10000 {
		t.Fatalf("common.txt has %d entries; want a few thousand", n)
	}
}

// topPasswords are the passwords that head every published frequency
// count, most common first.
const topPasswords = `123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon
123123 baseball abc123 football monkey letmein 696969 shadow master 666666
qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777 121212
000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter
buster soccer harley batman andrew tigger sunshine iloveyou 2000 charlie
robert thomas hockey ranger daniel starwars klaster 112233 george computer
michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom 777777
pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer
love ashley nicole chelsea biteme matthew access yankees 987654321 dallas
austin thunder taylor matrix william corvette hello martin heather secret
merlin diamond 1234qwer gfhjkm hammer silver 222222 88888888 anthony justin
test bailey q1w2e3r4t5 patrick internet scooter orange 11111 golfer cookie
richard samantha bigdog guitar jackson whatever mickey chicken sparky snoopy
maverick phoenix camaro peanut morgan welcome falcon cowboy ferrari samsung
andrea smokey steelers joseph mercedes dakota arsenal eagles melissa boomer
booboo spider nascar monster tigers yellow xxxxxx 123123123 gateway marina
diablo bulldog qwer1234 compaq purple hardcore banana junior hannah 123654
porsche lakers iceman money cowboys 987654 london tennis 999999 ncc1701
coffee scooby 0000 miller boston q1w2e3r4 brandon yamaha chester mother
forever johnny edward 333333 oliver redsox player nikita knight fender
barney midnight please brandy chicago badboy slayer rangers charles angel
flower rabbit wizard bigdick jasper enter rachel chris steven winner
adidas victoria natasha 1q2w3e4r jasmine winter prince panties marine
ghbdtn fishing cocacola casper james 232323 raiders 888888 marlboro gandalf
asdfasdf crystal 87654321 12344321 golden blowme bigtits 8675309 panther
lauren angela bitch spanky thx1138 angels madison winston shannon mike
toyota blowjob jordan23 canada sophie apples dick tiger razz 123abc pokemon
qazxsw 55555 qwaszx muffin johnson murphy cooper jonathan liverpoo david
danielle 159357 jackie 1990 123456a 789456 turtle horny abcd1234 scorpion
qazwsxedc 101010 butter carlos password1 dennis slipknot qwerty123 booger
asdf 1991 black startrek 12341234 cameron newyork rainbow nathan john
1992 rocket viking redskins butthead asdfghjkl 1212 sierra peaches gemini
doctor wilson sandra helpme qwertyui victor florida dolphin pookie captain
tucker blue liverpool theman bandit dolphins maddog packers jaguar lovers
nicholas united tiffany maxwell zzzzzz nirvana jeremy suckit stupid porn
monica elephant giants jackass hotdog rosebud success debbie mountain 444444
xxxxxxxx warrior 1q2w3e4r5t q1w2e3 123456q albert metallic lucky azerty
7777 shithead alex bond007 alexis 1111111 samson 5150 willie scorpio
bonnie gators benjamin voodoo driver dexter 2112 jason calvin freddy 212121
creative 12345a sydney rush2112 1989 asdfghjk red123 bubba 4815162342
passw0rd trouble gunner happy gordon legend jessie stella qwert eminem
arthur apple nissan bullshit bear america 1qazxsw2 nothing parker 4444
rebecca qweqwe garfield 01012011 beavis 69696969 jack asdasd december
2222 102030 252525 11223344 magic apollo skippy 315475 girls kitten
golf copper braves shelby godzilla beaver fred tomcat august buddy airborne
1993 1988 lifehack qqqqqq brooklyn animal platinum phantom online xavier
darkness blink182 power fish green 789456123 voyager police travis 12qwaszx
heaven snowball lover abcdef 00000 pakistan 007007 walter playboy blazer
cricket sniper hooters donkey willow loveme saturn therock redwings bigboy
pumpkin trinity williams tits nintendo digital destiny topgun runner marvin
guinness chance bubbles testing fire november minecraft asdf1234 lasvegas
sergey broncos cartman private celtic birdie little cassie babygirl donald
beatles 1313 dickhead family 12121212 school louise gabriel eclipse fluffy
147258369 lol123 explorer beer nelson flyers spencer scott lovely gibson
doggie cherry andrey snickers buffalo pantera metallica member carter
qwertyu peter alexande steve bronco paradise goober 5555 samuel montana
mexico dreams michigan cock carolina friends magnum surfer maximus genius
cool vampire lacrosse asd123 aaaa christin kimberly speedy sharon carmen
111222 kristina sammy racing ou812 sabrina horses 0987654321 qwerty1 pimpin
baby stalker enigma 147147 star poohbear boobies 147258 simple bollocks
12345q marcus ian 1987 qweasd 123qweasd 1q2w3e 1q2w3e4r5t6y zaq12wsx
zaq1zaq1 !qaz2wsx 1qaz2wsx3edc admin admin123 administrator root toor
changeme default guest login welcome1 welcome123 letmein1 iloveyou1 monkey1
dragon1 master1 shadow1 sunshine1 princess1 football1 baseball1 abc12345
aa123456 a123456 123456789a password12 password123 password1234 p@ssw0rd
p@ssword passw0rd! password! password1! qwerty1! 1qaz!qaz qwe123 qwe123qwe
zxcv1234 asdf123 abcd123 abc123456 12345abc test123 test1234 user1234 demo
temp123 pass123 pass1234 secret123 hello123 love123 iloveu lovelove
ilove iloveu2 loveyou mylove isthebest thisis letmein2 imissyou`

// keyboardRows are the rows of the layouts people walk along.
var keyboardRows = []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop", "qsdfghjklm", "wxcvbn", "0987654321", "7894561230", "1478963"}

// columnWalks are walks down the columns of a qwerty keyboard.
var columnWalks = []string{"1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/"}

var suffixes = []string{"1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "!!", "01", "11", "13", "21", "22", "23", "69", "77", "88", "99", "007", "2000", "2020", "2021", "2022", "2023", "2024", "2025", "@123", "#1", "."}

var l33t = strings.NewReplacer("a", "@", "o", "0", "e", "3", "i", "1", "s", "$")

func generateCommon(t *testing.T) []byte {
	t.Helper()
	words := readList(t, "words.txt")
	names := readList(t, "names.txt")
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(s)
		if len(s) < 4 || len(s) > 32 || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
	}
	top := strings.Fields(topPasswords)
	for _, p := range top {
		add(p)
	}
	// Digit runs and repeats.
	for d := '0'; d <= '9'; d++ {
		for n := 4; n <= 12; n++ {
			add(strings.Repeat(string(d), n))
		}
	}
	for n := 4; n <= 10; n++ {
		add("1234567890"[:n])
		add("0123456789"[:n])
		add("9876543210"[:n])
	}
	for _, p := range []string{"12", "123", "1234", "12345", "123456", "abc", "abc123", "qwe", "asd", "zxc", "qwerty", "love", "pass", "xo", "ab", "aa"} {
		add(strings.Repeat(p, 2))
		add(strings.Repeat(p, 3))
	}
	// Keyboard walks: prefixes of rows and their reverses, column walks.
	for _, row := range keyboardRows {
		for n := 4; n <= len(row); n++ {
			add(row[:n])
			add(reverse(row[:n]))
			add(row[len(row)-n:])
		}
	}
	for n := 2; n <= len(columnWalks); n++ {
		walk := strings.Join(columnWalks[:n], "")
		add(walk)
		add(strings.ToUpper(walk[:1]) + walk[1:])
		var zig strings.Builder
		for _, c := range columnWalks[:n] {
			zig.WriteString(c[:2])
		}
		add(zig.String())
	}
	for _, p := range []string{"1q2w3e", "1q2w3e4r", "1q2w3e4r5t", "q1w2e3r4", "q1w2e3r4t5", "zaq12wsx", "xsw21qaz", "qazwsx", "qazwsxedc", "qazxsw", "qwaszx", "qweasdzxc", "1qaz2wsx", "zaq1xsw2", "poiuytrewq", "mnbvcxz", "lkjhgfdsa", "qweasd", "asdzxc", "qwerasdf", "qwerasdfzxcv", "asdfqwer", "zxcvasdf"} {
		add(p)
		for _, s := range suffixes[:8] {
			add(p + s)
		}
	}
	// The top passwords that are words, with the endings people add.
	for i, p := range top[:200] {
		if !isLetters(p) {
			continue
		}
		ends := suffixes
		if i >= 50 {
			ends = suffixes[:8]
		}
		for _, s := range ends {
			add(p + s)
		}
	}
	// Predictable substitutions of the top passwords.
	for _, p := range top[:200] {
		if isLetters(p) {
			sub := l33t.Replace(p)
			add(sub)
			add(sub + "1")
			add(sub + "!")
			add(sub + "123")
			add(strings.ReplaceAll(p, "o", "0"))
			add(strings.ReplaceAll(p, "a", "@"))
			add(strings.ReplaceAll(p, "e", "3"))
			add(strings.ReplaceAll(p, "s", "$"))
		}
	}
	// Seasons, months and days with the year.
	for _, w := range []string{"spring", "summer", "autumn", "fall", "winter", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december", "monday", "friday", "sunday"} {
		for y := 2010; y <= 2026; y++ {
			add(fmt.Sprint(w, y))
			add(fmt.Sprint(w, y, "!"))
		}
		add(w + "01")
		add(w + "1")
	}
	// Common words with short endings.
	for _, w := range words[:300] {
		add(w + "123")
		add(w + "1")
		add(w + "12")
		add(w + "!")
	}
	// Names with the endings and birth years people add.
	for i, n := range names {
		add(n)
		add(n + "1")
		add(n + "12")
		add(n + "123")
		add(n + "!")
		add(n + "69")
		add(n + "01")
		if i < 40 {
			for y := 1980; y <= 2005; y++ {
				add(fmt.Sprint(n, y))
			}
			for y := 80; y <= 99; y++ {
				add(fmt.Sprint(n, y))
			}
		}
	}
	// Years themselves.
	for y := 1950; y <= 2030; y++ {
		add(fmt.Sprint(y))
		add(fmt.Sprint(y, y))
	}
	// Common words by themselves last: they are weak but rarely used alone.
	for _, w := range words {
		if len(w) >= 6 {
			add(w)
		}
	}
	var b bytes.Buffer
	for _, s := range out {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func readList(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			out = append(out, w)
		}
	}
	return out
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
