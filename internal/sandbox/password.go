package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The local server's role postgres is a superuser, and a pull request's migration runs as it: COPY …
// TO PROGRAM runs commands as the server's OS user, which every run's server shares. Such a command
// could connect to another run's server over its Unix socket (a file the same OS user reaches) and
// read or change what that run rehearses, so no server accepts a connection without a password:
//
//   - A template is initialized with scram-sha-256 for every connection (pg_hba.conf) and a random
//     password of its own, kept in the template folder (templateSecret, never copied), which only the
//     user running schemagate can read when it runs as root.
//   - Each run connects first with that password and, before anything of the pull request runs, gives
//     postgres a password of its own, random, which only its URL carries: a program of another run
//     knows neither. It is sent as a SCRAM verifier (scramVerifier), so that the password itself never
//     reaches the server, its log or a statement statistics view.

// scramIterations is the iteration count of the run's verifier: PostgreSQL's default. The password is
// 128 random bits, which no iteration count makes easier or harder to guess; this one keeps each
// connection's authentication at a millisecond.
const scramIterations = 4096

// newPassword returns a random password (128 bits, in hex: nothing SASLprep would change).
func newPassword() string { return randomHex(16) }

// scramVerifier is what pg_authid.rolpassword holds for password with scram-sha-256 (RFC 5802, RFC 7677):
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("derive the server password's verifier: %w", err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	stored := sha256.Sum256(mac(salted, "Client Key"))
	b64 := base64.StdEncoding.EncodeToString
	return "SCRAM-SHA-256$" + strconv.Itoa(scramIterations) + ":" + b64(salt) + "$" + b64(stored[:]) + ":" + b64(mac(salted, "Server Key")), nil
}

// claimServer connects to a server just started from a template copy (u carries the template's
// password), gives role postgres the run's password (its verifier) and returns server_version_num and
// the files (relative to the data folder) of the relations the catalog of u's database names, with the
// shared catalogs': a copy of the template must have them all. Connections already open keep working;
// new ones need the run's password.
func claimServer(ctx context.Context, u, verifier string) (version int, files []string, err error) {
	conn, err := pgconn.Connect(ctx, u)
	if err != nil {
		return 0, nil, fmt.Errorf("connect to the throwaway server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// One round trip for the three, in one simple query (one implicit transaction), where pgx's
	// prepared statements took five, each waiting on the server: the claim is on the path of every
	// start. A utility statement takes no parameters; the verifier holds base64, '$' and ':' only.
	results, err := conn.Exec(ctx, "ALTER ROLE postgres PASSWORD '"+verifier+"';"+
		"SELECT current_setting('server_version_num');"+
		`SELECT pg_relation_filepath(oid) FROM pg_catalog.pg_class
		WHERE relkind IN ('r', 'i', 't', 'S', 'm') AND relpersistence = 'p' AND pg_relation_filepath(oid) IS NOT NULL`).ReadAll()
	if err != nil {
		return 0, nil, fmt.Errorf("set the run's password on the throwaway server, read its version and list the catalog's files: %w", err)
	}
	if len(results) != 3 || len(results[1].Rows) != 1 || len(results[1].Rows[0]) != 1 {
		return 0, nil, fmt.Errorf("set the run's password on the throwaway server: %d results, want 3", len(results))
	}
	if version, err = strconv.Atoi(string(results[1].Rows[0][0])); err != nil {
		return 0, nil, fmt.Errorf("read server version: %w", err)
	}
	for _, row := range results[2].Rows {
		files = append(files, string(row[0]))
	}
	return version, files, nil
}

// serverVersion connects to u and reads server_version_num.
func serverVersion(ctx context.Context, u string) (int, error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return 0, fmt.Errorf("connect to the throwaway server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var v int
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err != nil {
		return 0, fmt.Errorf("read server version: %w", err)
	}
	return v, nil
}
