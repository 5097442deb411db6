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
		{"github-actions[bot]", "github-actions", true},
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
