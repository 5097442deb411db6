package schema

import (
	"slices"
	"strings"
	"testing"
)

// tsShop is shop with a dictionary my_dict and a configuration my_cfg that maps asciiword to it.
func tsShop() *Catalog {
	c := shop()
	c.TextSearchDictionaries["public.my_dict"] = &TextSearchDictionary{OID: 960, Schema: "public", Name: "my_dict", Template: "simple",
		Options: []string{"accept = 'false'", "stopwords = 'english'"}, Owner: "app"}
	c.TextSearchConfigs["public.my_cfg"] = &TextSearchConfig{OID: 961, Schema: "public", Name: "my_cfg", Parser: `"default"`,
		Mappings: map[string][]string{"asciiword": {"my_dict", "english_stem"}, "email": {"simple"}, "url": {"simple"}}, Owner: "app"}
	return c
}

// TestGenerateDownTextSearch: a dictionary moved to another schema is moved back, and the mapping that
// names it follows (no ALTER MAPPING); options and mappings are taken back in as few statements as they
// need; what the up added is dropped after the columns that use it.
func TestGenerateDownTextSearch(t *testing.T) {
	t.Run("move", func(t *testing.T) {
		before, after := tsShop(), tsShop()
		d := after.TextSearchDictionaries["public.my_dict"]
		delete(after.TextSearchDictionaries, "public.my_dict")
		d.Schema = "fts"
		after.TextSearchDictionaries["fts.my_dict"] = d
		after.TextSearchConfigs["public.my_cfg"].Mappings["asciiword"] = []string{"fts.my_dict", "english_stem"}
		want := []string{"ALTER TEXT SEARCH DICTIONARY fts.my_dict SET SCHEMA public"}
		if got := sqls(GenerateDown(before, after)); !slices.Equal(got, want) {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("changed", func(t *testing.T) {
		before, after := tsShop(), tsShop()
		after.TextSearchDictionaries["public.my_dict"].Options = []string{"stopwords = 'russian'"}
		m := after.TextSearchConfigs["public.my_cfg"].Mappings
		m["asciiword"] = []string{"simple"}
		m["blank"], m["tag"] = []string{"simple"}, []string{"simple"}
		delete(m, "email")
		delete(m, "url")
		after.TextSearchConfigs["public.extra"] = &TextSearchConfig{OID: 962, Schema: "public", Name: "extra", Parser: `"default"`}
		after.Tables["public.users"].Columns = append(after.Tables["public.users"].Columns,
			&Column{Num: 9, Name: "tsv", Type: "tsvector", Default: "to_tsvector('extra'::regconfig, ''::text)"})
		want := []string{
			"ALTER TABLE users DROP COLUMN tsv",
			"ALTER TEXT SEARCH DICTIONARY my_dict (accept = 'false', stopwords = 'english')",
			"ALTER TEXT SEARCH CONFIGURATION my_cfg DROP MAPPING FOR blank, tag",
			"ALTER TEXT SEARCH CONFIGURATION my_cfg ALTER MAPPING FOR asciiword WITH my_dict, english_stem",
			"ALTER TEXT SEARCH CONFIGURATION my_cfg ADD MAPPING FOR email, url WITH simple",
			"DROP TEXT SEARCH CONFIGURATION extra",
		}
		if got := sqls(GenerateDown(before, after)); !slices.Equal(got, want) {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
