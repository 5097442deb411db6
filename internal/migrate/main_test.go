package migrate

import (
	"os"
	"testing"
)

// TestMain keeps the machine's own sqitch configuration out of the tests: sqitch reads the user's
// (~/.sqitch/sqitch.conf, $SQITCH_USER_CONFIG) and the system's ($SQITCH_SYSTEM_CONFIG) under the
// project's, which $SQITCH_CONFIG replaces, and so does the reader (sqitchOuterConf, sqitchEnvConf).
// Tests that want them set them.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "schemagate-home")
	if err != nil {
		panic(err)
	}
	os.Setenv("HOME", home)
	os.Unsetenv("SQITCH_USER_CONFIG")
	os.Unsetenv("SQITCH_SYSTEM_CONFIG")
	os.Unsetenv("SQITCH_CONFIG")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
