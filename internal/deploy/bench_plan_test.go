package deploy

import (
	"fmt"
	"testing"
)

// BenchmarkRollbackPlan measures what restorable and undo ask of every pending migration before a
// deploy, without a database: whether its down would lose data (snapshotOnly) and whether its up
// destroys data its down cannot bring back (upDestroyed), each judged after the migrations before it.
// The pending migrations are a generated history: tables with a foreign key to the one before, an
// index, a column added to an older table, a backfill; each down undoes its up.
func BenchmarkRollbackPlan(b *testing.B) {
	for _, n := range []int{100, 300, 2000} {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			files := map[string]string{}
			for i := 1; i <= n; i++ {
				up := fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, ref bigint, note text);\nCREATE INDEX t%d_ref ON t%d (ref);\n", i, i, i)
				down := fmt.Sprintf("DROP TABLE t%d;\n", i)
				if i > 1 {
					up += fmt.Sprintf("ALTER TABLE t%d ADD CONSTRAINT t%d_ref_fk FOREIGN KEY (ref) REFERENCES t%d (id) ON DELETE CASCADE;\n", i, i, i-1)
					up += fmt.Sprintf("ALTER TABLE t%d ADD COLUMN c%d integer;\nUPDATE t%d SET c%d = 1;\n", i-1, i, i-1, i)
					down = fmt.Sprintf("ALTER TABLE t%d DROP COLUMN c%d;\n", i-1, i) + down
				}
				files[fmt.Sprintf("%04d_m.up.sql", i)] = up
				files[fmt.Sprintf("%04d_m.down.sql", i)] = down
			}
			pending := folderB(b, files).Migrations
			b.ResetTimer()
			for b.Loop() {
				analyzed.Clear() // as a deploy finds it: no script read yet, no links kept
				linkBases.reset()
				soFars.reset()
				factsNeeded(pending, "")
				for i, m := range pending {
					if w := snapshotOnly(m, pending[:i], "", nil, nil); w == "" {
						_ = upDestroyed(m, pending[:i], "", nil, nil)
					}
				}
			}
		})
	}
}
