package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/deploy"
	"github.com/schemagate/schemagate/internal/forge"
	"github.com/schemagate/schemagate/internal/forge/github/githubtest"
	"github.com/schemagate/schemagate/internal/pgtest"
)

// TestDeployCommentOfAnEnvironmentWithAnEscapedName: the deploy comment's marker escapes the
// environment's name now (deploy.CommentMarker); the comment an earlier version marked with the name as
// it was is updated, not left beside a new one.
func TestDeployCommentOfAnEnvironmentWithAnEscapedName(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := githubtest.New(t)
	ref := s.AddChangeRequest(forge.ChangeRequest{Ref: forge.Ref{Repo: "acme/shop", Number: 9}, Author: "alice", HeadSHA: "h1", BaseSHA: "b1",
		BaseRef: "main", State: "closed", Merged: true}, []string{"migrations/1_a.up.sql"})
	s.AddComment(ref, s.BotLogin(), "deployed by an earlier version\n\n<!-- schemagate:deploy eu west -->")
	work := t.TempDir()
	migs := filepath.Join(work, "migrations")
	if err := os.MkdirAll(migs, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(migs, "1_a.up.sql"), []byte("CREATE TABLE a (id int);"))
	writeFile(t, filepath.Join(migs, "1_a.down.sql"), []byte("DROP TABLE a;"))
	cfg := filepath.Join(work, "schemagate.yml")
	writeFile(t, cfg, []byte("dir: "+migs+"\nformat: golang-migrate\nenvironments:\n  eu west:\n    snapshot: {kind: none}\n    database_url_env: SG_URL\n"))
	env := map[string]string{"SG_URL": url, "GITHUB_TOKEN": githubtest.Token}
	code, out, errOut := runCLI(t, env, "deploy", "--env", "eu west", "--config", cfg, "--repo", "acme/shop", "--pr", "9", "--api-url", s.URL())
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	cs := s.Comments(ref)
	if len(cs) != 1 || !strings.HasSuffix(cs[0].Body, deploy.CommentMarker("eu west")) || strings.Contains(cs[0].Body, "earlier version") {
		t.Errorf("comments %+v; want the earlier version's updated, with marker %q", cs, deploy.CommentMarker("eu west"))
	}
}
