package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestStringHidesSecretsAndTheirEncodings(t *testing.T) {
	const secret = "s3cr3t-Value:with/odd+chars"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	r := New(secret)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "LEAK " + secret + "!", "LEAK ***!"},
		{"twice", secret + secret, "******"},
		{"query escaped", "x=" + url.QueryEscape(secret), "x=***"},
		{"path escaped", "/" + url.PathEscape(secret), "/***"},
		{"base64", "b64 " + b64(secret), "b64 ***"},
		{"url base64", base64.URLEncoding.EncodeToString([]byte(secret)), "***"},
		{"x-access-token", "extraheader: " + b64("x-access-token:"+secret), "extraheader: ***"},
		{"other text", "nothing to hide here", "nothing to hide here"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if !r.Hidden() {
		t.Error("Hidden is false after a secret was hidden")
	}
}

// TestStringHidesBasicAuthOfAnyUser: USER:SECRET in base64 encodes the secret differently for each length
// of USER (mod 3); what is the secret's alone is hidden whatever the user, leaving at most the group of 4
// characters that holds the user's last bytes and the secret's first, and the one that holds its last
// bytes and what follows.
func TestStringHidesBasicAuthOfAnyUser(t *testing.T) {
	const secret = "correct-horse-battery-staple"
	r := New(secret)
	for _, user := range []string{"", "a", "ab", "abc", "deploy", "x-access-token", "some.user@example.com"} {
		for _, after := range []string{"", "\n", "xy"} {
			enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret + after))
			got := r.String(enc)
			if !strings.Contains(got, Mask) {
				t.Errorf("user %q, after %q: %s not hidden", user, after, enc)
				continue
			}
			// What is left decodes to no more than 2 bytes of the secret on either side.
			left := strings.SplitN(got, Mask, 2)
			if len(left[0]) > (len(user)+1)/3*4+4 || len(left[1]) > 8 {
				t.Errorf("user %q, after %q: %q shows too much of %q", user, after, got, enc)
			}
		}
	}
}

func TestStringHidesTokenShapes(t *testing.T) {
	r := New() // none given: the shapes alone
	gh := "ghs_" + strings.Repeat("A1b2", 9)
	for _, tc := range []struct{ name, in, want string }{
		{"installation token", "token " + gh + ".", "token ***."},
		{"personal token", "ghp_" + strings.Repeat("x", 36), "***"},
		{"fine-grained", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "***"},
		{"gitlab personal", "PRIVATE-TOKEN: glpat-abcdefghij0123456789", "PRIVATE-TOKEN: ***"},
		{"gitlab job", "glcbt-64_abcdefghij0123456789xyz", "***"},
		{"basic header", "extraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2Zha2U=", "extraheader = AUTHORIZATION: basic ***"},
		{"bearer header", "Authorization: Bearer abc.def-ghi_jkl", "Authorization: Bearer ***"},
		{"header in any case", "aUtHoRiZaTiOn: BEARER abcdefgh12", "aUtHoRiZaTiOn: BEARER ***"},
		{"oauth token at the end", "x gho_" + strings.Repeat("Z", 40), "x ***"},
		{"too short for a token", "ghs_short and glpat-short", "ghs_short and glpat-short"},
		{"a word", "authorization: basic of it", "authorization: basic of it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAddSkipsShortValues(t *testing.T) {
	r := New("", "  ", "pg", "abc")
	if got := r.String("pg abc"); got != "pg abc" || r.Hidden() {
		t.Errorf("String = %q, hidden %v: values shorter than %d are not secrets to hide", got, r.Hidden(), MinLen)
	}
	r.Add("abcd")
	if got := r.String("pg abcd"); got != "pg ***" {
		t.Errorf("after Add: %q", got)
	}
}

// TestValueKeepsJSONWhole: the strings of a model are replaced before it is encoded, so the JSON stays
// valid and the secret is in none of its fields, nested, in maps, slices and interfaces.
func TestValueKeepsJSONWhole(t *testing.T) {
	const secret = `pa"ss\word-1234`
	type inner struct {
		Msg    string
		Ptr    *string
		hidden string
	}
	type model struct {
		Name  string
		List  []string
		Inner []inner
		Map   map[string]string
		Any   any
		N     int
	}
	p := "p " + secret
	m := &model{Name: "x " + secret, List: []string{secret, "ok"}, Inner: []inner{{Msg: secret, Ptr: &p, hidden: secret}},
		Map: map[string]string{"k " + secret: "v " + secret, "plain": "plain"}, Any: "any " + secret, N: 7}
	r := New(secret)
	if !r.Value(m) {
		t.Fatal("Value reported nothing hidden")
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "pa\\\"ss") || strings.Contains(string(b), "word-1234") {
		t.Errorf("the secret is left: %s", b)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if m.Name != "x ***" || *m.Inner[0].Ptr != "p ***" || m.Map["k ***"] != "v ***" || m.Map["plain"] != "plain" || m.Any != "any ***" || m.N != 7 {
		t.Errorf("model = %+v", m)
	}
	if m.Inner[0].hidden != secret {
		t.Error("an unexported field was changed")
	}
	if New(secret).Value(&model{Name: "clean"}) {
		t.Error("Value reported a change in a model without secrets")
	}
}

func TestConcurrentUse(t *testing.T) {
	r := New("first-secret")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				r.Add("another-secret-" + strings.Repeat("x", i))
			}
			if got := r.String("first-secret"); got != Mask {
				t.Errorf("String = %q", got)
			}
		}()
	}
	wg.Wait()
}

// TestMayHoldShapeMissesNoMatch: the quick test before the regular expression passes every text it
// matches in, wherever the match stands and whatever surrounds it.
func TestMayHoldShapeMissesNoMatch(t *testing.T) {
	matches := []string{"ghp_" + strings.Repeat("a", 36), "ghr_" + strings.Repeat("9", 40), "github_pat_" + strings.Repeat("_", 22),
		"glpat-" + strings.Repeat("-", 20), "glsoat-" + strings.Repeat("b", 20), "glft-" + strings.Repeat("c", 20),
		"AUTHORIZATION: token abcdefgh", "authorization:basic abcdefgh==", "AuthoriZation :  Bearer a.b.c.d.e"}
	for _, m := range matches {
		for _, around := range [][2]string{{"", ""}, {"zz", "zz"}, {"gh gl authorizatio ", " z"}, {strings.Repeat("z", 20), "\n"}} {
			s := around[0] + m + around[1]
			if !shapes.MatchString(s) {
				t.Fatalf("the test's own %q does not match", s)
			}
			if !mayHoldShape(s) {
				t.Errorf("mayHoldShape(%q) = false", s)
			}
		}
	}
	for _, s := range []string{"", "through the high glass", "z", "authorizatio", "ghx_ glxx-"} {
		if mayHoldShape(s) {
			t.Errorf("mayHoldShape(%q) = true", s)
		}
	}
}

// TestStringHidesASecretCutShort: text is often cut short before it is redacted (a finding's excerpt
// of a long statement ends in "...", a trace's statement in "…"), and what is left of a secret at the
// cut, at its end or, for text cut at the front, at its start, is hidden too: 28 of a 30-byte password
// were published before. A part shorter than MinLen, text that only looks like a cut, and a cut far
// from any secret stay as they are.
func TestStringHidesASecretCutShort(t *testing.T) {
	const pw = "Hunter2_Sup3rS3cret_Pr0d_2024!"
	r := New(pw)
	for _, tt := range []struct{ in, want string }{
		{"DO $$ BEGIN PERFORM set_config('app.x', '" + pw[:28] + "...", "DO $$ BEGIN PERFORM set_config('app.x', '***..."},
		{"SELECT '" + pw[:10] + "…", "SELECT '***…"},
		{"…" + pw[12:] + "', false)", "…***', false)"},
		{"…" + pw[25:] + "', false)", "…***', false)"},
		{"SELECT 'Hun...", "SELECT 'Hun..."},
		{"SELECT 'Hunter2_Sup3r' || 'x'", "SELECT 'Hunter2_Sup3r' || 'x'"},
		{"a cut… of nothing ... here", "a cut… of nothing ... here"},
		{"both '" + pw + "' and '" + pw[:6] + "...", "both '***' and '***..."},
	} {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// An encoding cut short: at least minEncoded bytes of it.
	b64 := Forms(pw)[3]
	if got := r.String("auth " + b64[:minEncoded] + "..."); got != "auth ***..." {
		t.Errorf("a cut encoding: %q", got)
	}
	if got := r.String("auth " + b64[:minEncoded-1] + "..."); got != "auth "+b64[:minEncoded-1]+"..." {
		t.Errorf("a cut encoding shorter than %d bytes was hidden: %q", minEncoded, got)
	}
}
