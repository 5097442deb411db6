package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/schemagate/schemagate/internal/config"
)

// TestWebhookSecretsStayOutOfMessages: a webhook URL's user password and query values (a token) are
// written as *** wherever the deploy describes the action or quotes the HTTP client's error, and so in
// the text, JSON and Markdown reports.
func TestWebhookSecretsStayOutOfMessages(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Close() // nothing listens there any more: the request fails
	hook := strings.Replace(srv.URL, "http://", "http://hookuser:hookPASS@", 1) + "/maint?token=QUERYSECRET&x=1#frag"
	cfg := config.Maintenance{
		On:  config.Action{Webhook: &config.Webhook{URL: hook}},
		Off: config.Action{Webhook: &config.Webhook{URL: hook}},
	}
	m, err := NewMaintenance(cfg, "postgres://app:dbPW@127.0.0.1/db", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	onErr := m.On(context.Background())
	if onErr == nil {
		t.Fatal("on: want an error from the closed server")
	}
	var ue interface{ Timeout() bool }
	if !errors.As(onErr, &ue) {
		t.Errorf("the HTTP client's error is no longer in the chain: %v", onErr)
	}
	res := &Result{Env: "prod", RunID: "r", Outcome: OutcomeBlocked, Reason: onErr.Error(),
		Maintenance: &MaintenanceResult{Error: onErr.Error(), Hint: byHand(m)}, Notes: []string{byHand(m)}}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	var js strings.Builder
	if err := json.NewEncoder(&js).Encode(res); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"error": onErr.Error(), "by hand": byHand(m), "text": text.String(), "json": js.String(), "markdown": res.Markdown()} {
		for _, secret := range []string{"hookPASS", "QUERYSECRET", "frag"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %s:\n%s", name, secret, out)
			}
		}
	}
	if want := "hookuser:***@"; !strings.Contains(onErr.Error(), want) || !strings.Contains(onErr.Error(), "/maint?token=***&x=***") {
		t.Errorf("error %q does not say which webhook, redacted", onErr)
	}
}

// TestCommandActionMasksSecrets: a failed maintenance command's output, which its error quotes, has the
// database password and the webhooks' secrets written as ***.
func TestCommandActionMasksSecrets(t *testing.T) {
	t.Parallel()
	cfg := config.Maintenance{
		On:  config.Action{Command: `set -x; echo "$SCHEMAGATE_DATABASE_URL $HOOK_TOKEN"; exit 1`},
		Off: config.Action{Webhook: &config.Webhook{URL: "https://u:wPASS@ops.example.com/off?token=QTOK", Headers: map[string]string{"Authorization": "OPS_TOKEN"}}},
	}
	getenv := func(k string) string {
		if k == "OPS_TOKEN" {
			return "Bearer hdrSECRET"
		}
		return ""
	}
	m, err := NewMaintenance(cfg, "postgres://app:hunter2PW@127.0.0.1/db", getenv)
	if err != nil {
		t.Fatal(err)
	}
	sw := m.(*Switch)
	sw.OnAction.(*CommandAction).Env = append(sw.OnAction.(*CommandAction).Env, "HOOK_TOKEN=wPASS QTOK Bearer hdrSECRET")
	err = m.On(context.Background())
	if err == nil {
		t.Fatal("on: want an error")
	}
	for _, secret := range []string{"hunter2PW", "wPASS", "QTOK", "hdrSECRET"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows %s: %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "postgres://app:***@127.0.0.1/db") {
		t.Errorf("error lost the command's output: %v", err)
	}
}

// TestWebhookAnswerAndCommandTextMasked: a webhook service that echoes the request in its error page
// (the Authorization header, the URL's token) had those quoted in the deploy's error; and a command
// that holds the database password literally showed it wherever the deploy describes the action. Both
// are written as ***.
func TestWebhookAnswerAndCommandTextMasked(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "upstream refused %s with Authorization: %s", r.URL.RequestURI(), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	cfg := config.Maintenance{
		On:  config.Action{Webhook: &config.Webhook{URL: srv.URL + "/on?token=QTOK", Headers: map[string]string{"Authorization": "OPS_TOKEN"}}},
		Off: config.Action{Command: `PGPASSWORD=hunter2PW psql -h db -c "UPDATE flags SET maintenance = false"`},
	}
	getenv := func(k string) string {
		if k == "OPS_TOKEN" {
			return "Bearer hdrSECRET"
		}
		return ""
	}
	m, err := NewMaintenance(cfg, "postgres://app:hunter2PW@127.0.0.1/db", getenv)
	if err != nil {
		t.Fatal(err)
	}
	onErr := m.On(context.Background())
	if onErr == nil || !strings.Contains(onErr.Error(), "HTTP 502: upstream refused /on?token=") {
		t.Fatalf("on: %v; want the service's answer quoted", onErr)
	}
	sw := m.(*Switch)
	for name, out := range map[string]string{"webhook error": onErr.Error(), "by hand": byHand(m), "off action": sw.OffAction.String()} {
		for _, secret := range []string{"hunter2PW", "QTOK", "hdrSECRET"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %s: %s", name, secret, out)
			}
		}
	}
	if got := byHand(m); !strings.Contains(got, "PGPASSWORD=*** psql") {
		t.Errorf("by hand %q does not say what to run", got)
	}
}
