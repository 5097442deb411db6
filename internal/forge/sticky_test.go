package forge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
)

func TestSameLogin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"github-actions[bot]", "github-actions", false}, // a user may be called github-actions
		{"github-actions[bot]", "GitHub-Actions[bot]", true},
		{"Dora", "dora", true},
		{"dora", "dorab", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := forge.SameLogin(tt.a, tt.b); got != tt.want {
			t.Errorf("SameLogin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCommentBy(t *testing.T) {
	tests := []struct {
		name  string
		c     forge.Comment
		login string
		want  bool
	}{
		{"the bot", forge.Comment{Author: "github-actions[bot]", AuthorBot: true}, "github-actions[bot]", true},
		{"an App's bot given without [bot]", forge.Comment{Author: "my-app[bot]", AuthorBot: true}, "my-app", true},
		{"a user named like the bot", forge.Comment{Author: "github-actions"}, "github-actions[bot]", false},
		{"a user named like the App", forge.Comment{Author: "my-app"}, "my-app[bot]", false},
		{"a GitLab bot user", forge.Comment{Author: "project_42_bot_3f2a"}, "project_42_bot_3f2a", true},
		{"nobody", forge.Comment{}, "", false},
	}
	for _, tt := range tests {
		if got := tt.c.By(tt.login); got != tt.want {
			t.Errorf("%s: %+v.By(%q) = %v, want %v", tt.name, tt.c, tt.login, got, tt.want)
		}
	}
}

// TestUpsertLeavesAUserNamedLikeTheBot: the user github-actions (type User) pastes schemagate's marker;
// the Actions token's comment is github-actions[bot]'s, so a new comment is written and the user's is
// never edited (the fake fails the test on such an edit).
func TestUpsertLeavesAUserNamedLikeTheBot(t *testing.T) {
	s := githubtest.New(t)
	s.SetInstallationToken(true)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "1"}, nil)
	marker := "<!-- schemagate:report db/migrations -->"
	s.AddComment(ref, "github-actions", "pasted "+marker)
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL(), FallbackLogin: github.ActionsBotLogin})
	if err != nil {
		t.Fatal(err)
	}
	if _, created, err := forge.Upsert(t.Context(), f, ref, marker, "report"); err != nil || !created {
		t.Fatalf("Upsert: created %v, err %v; want a new comment", created, err)
	}
	cs := s.Comments(ref)
	if len(cs) != 2 || cs[0].Body != "pasted "+marker || cs[1].Author != "github-actions[bot]" {
		t.Errorf("comments = %+v, want the user's untouched and the bot's new one", cs)
	}
}

func TestUpsertAppendsMarkerOnce(t *testing.T) {
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop"}, Author: "alice", HeadSHA: "1"}, nil)
	f, err := github.New(github.Options{Token: githubtest.Token, BaseURL: s.URL(), Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- schemagate:report db/migrations -->"
	if _, _, err := forge.Upsert(t.Context(), f, ref, marker, "body"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := forge.Upsert(t.Context(), f, ref, marker, marker+"\nbody 2"); err != nil {
		t.Fatal(err)
	}
	cs := s.Comments(ref)
	if len(cs) != 1 || strings.Count(cs[0].Body, marker) != 1 || !strings.Contains(cs[0].Body, "body 2") {
		t.Errorf("comments = %+v, want one holding the marker once", cs)
	}
	// An unchanged body is not sent again.
	before := len(s.Requests())
	if _, created, err := forge.Upsert(t.Context(), f, ref, marker, marker+"\nbody 2"); err != nil || created {
		t.Fatal(err)
	}
	for _, r := range s.Requests()[before:] {
		if strings.HasPrefix(r, "PATCH") {
			t.Errorf("an unchanged comment was updated: %s", r)
		}
	}
	if _, _, err := forge.Upsert(t.Context(), f, ref, "", "x"); err == nil {
		t.Error("Upsert with an empty marker: err = nil")
	}
}
