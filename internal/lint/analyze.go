package lint

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/schemagate/schemagate/internal/migrate"
	"github.com/schemagate/schemagate/internal/sqlparse"
)

// Analyze judges the up script of m, a migration of a folder in format, from its parse tree, as the
// format's tool runs it (see ToolTransaction); explicit BEGIN/COMMIT in the file count as well. Objects
// created earlier in the same migration are exempt from the lock rules; earlier SET lock_timeout /
// statement_timeout are remembered; rules are gated on cfg's PostgreSQL version. Findings come in
// statement order, with configuration overrides and ignore comments applied.
func Analyze(m *migrate.Migration, format migrate.Format, cfg Config) []Finding {
	if m == nil || m.Up == nil {
		return nil
	}
	cfg.Format = format
	return AnalyzeScript(m.Up, ToolTransaction(m, format), cfg)
}

// ToolTransaction tells whether the tool of format runs the up script of m in one transaction, which
// AnalyzeScript's inTx takes. psql runs sqitch scripts and plain folders (sqitch calls psql --file
// without --single-transaction): each statement outside the script's own BEGIN … COMMIT commits by
// itself, so none holds a lock past its end, whether or not the rehearsal runs the script in one
// transaction to round-trip it; so does golang-migrate with x-multi-statement (m.PerStatement). The
// other tools run a migration in a transaction unless it is marked (or found) to run outside one; one
// that a COMMIT of the script's own ends half way (migrate.Script.CommitsHalfWay) is the tool's
// transaction up to that COMMIT, which transaction-boundaries judges.
func ToolTransaction(m *migrate.Migration, format migrate.Format) bool {
	switch {
	case m == nil || m.Up == nil:
		return false
	case format == migrate.FormatSqitch || format == migrate.FormatPlain || m.PerStatement:
		return false
	case m.Up.CommitsHalfWay:
		return true
	}
	return !m.NoTransaction && !m.Up.NoTransaction
}

// AnalyzeScript judges one script; inTx says whether the tool wraps it in a transaction (false: each
// statement outside the script's own BEGIN … COMMIT is a transaction of its own, and holds no lock past
// its end).
func AnalyzeScript(s *migrate.Script, inTx bool, cfg Config) []Finding {
	if s == nil {
		return nil
	}
	a := newAnalyzer(s, inTx, cfg)
	for i := range s.Statements {
		a.statement(i, &s.Statements[i])
	}
	a.finish()
	return a.result()
}

// Sequence judges the migrations of one folder in order, as check replays them: each migration sees
// what the earlier ones built (tables, columns, NOT NULL, CHECK constraints, indexes) as pre-existing,
// so a recipe spread over several migrations is judged as a whole. The folder is taken to be the
// database's whole history, on top of Config.Schema when one is given. After StartChange, the
// migrations judged are the new migrations of one change. A Sequence is not safe for concurrent use.
type Sequence struct {
	cfg Config
	st  *state
	// change says the migrations judged now are new migrations of one change (see StartChange).
	change bool
	// before are the objects that existed when the change started: an object the change creates under
	// one of their names (after a DROP or a RENAME) is one the running application may use.
	before map[string]bool
}

// StartChange says that the migrations judged from now on are the new migrations of one change, which
// schemagate deploy applies together: what one of them creates (and does not drop) counts for the
// later ones as created by the change (see Config.ChangeCreated), not as pre-existing. What the
// migrations judged before, and Config.Schema, describe stays pre-existing, and so does an object
// the change creates under the name of one of those (dropped or renamed first), which the running
// application may use.
func (q *Sequence) StartChange() {
	q.change, q.before = true, maps.Clone(q.st.exists)
}

// NewSequence starts a sequence of migrations judged with cfg.
func NewSequence(cfg Config) *Sequence {
	st := loadSchema(cfg)
	st.complete = true
	return &Sequence{cfg: cfg, st: st}
}

// Analyze judges the next migration of the sequence (of a folder in format) like Analyze does, then
// adds what it does to the state the following migrations see.
func (q *Sequence) Analyze(m *migrate.Migration, format migrate.Format) []Finding {
	if m == nil || m.Up == nil {
		return nil
	}
	return q.analyze(m.Up, ToolTransaction(m, format), m.ID(), format)
}

// AnalyzeScript judges the next script of the sequence like AnalyzeScript does; a later finding that
// says the script created an object names it by the script's file.
func (q *Sequence) AnalyzeScript(s *migrate.Script, inTx bool) []Finding {
	if s == nil {
		return nil
	}
	return q.analyze(s, inTx, s.File, q.cfg.Format)
}

// analyze judges script s of migration id, of a folder in format.
func (q *Sequence) analyze(s *migrate.Script, inTx bool, id string, format migrate.Format) []Finding {
	// What the earlier migrations created is pre-existing now, or the change's (see StartChange); each
	// migration starts on the default search path.
	q.st.created, q.st.gone = map[string]bool{}, map[string]string{}
	q.st.schema = defaultSchema
	q.st.forgetTemp()
	a := newAnalyzerState(s, inTx, q.cfg, q.st)
	a.format = format
	for i := range s.Statements {
		a.statement(i, &s.Statements[i])
	}
	a.finish()
	for key := range q.st.created {
		if _, earlier := q.st.change[key]; q.change && !earlier && q.st.exists[key] && !q.before[key] {
			q.st.change[key] = id
		}
	}
	return a.result()
}

// lock levels, numbered as PostgreSQL numbers them (LOCKMODE).
type lockLevel int

const (
	lockNone lockLevel = 0
	lockAS   lockLevel = 1
	lockRS   lockLevel = 2
	lockRX   lockLevel = 3
	lockSUE  lockLevel = 4
	lockSH   lockLevel = 5
	lockSRE  lockLevel = 6
	lockEX   lockLevel = 7
	lockAE   lockLevel = 8
)

type analyzer struct {
	cfg    Config
	script *migrate.Script
	toolTx bool
	// format is the format of the folder the script comes from (Config.Format, or the format Analyze
	// was given): what its tool does with a transaction the script leaves open (leftOpen).
	format migrate.Format
	st     *state
	out    []Finding

	stmt    *sqlparse.Statement // the statement being judged
	stmtIdx int
	// excerptOf and excerpt keep shorten's answer for the last statement a finding was added on: a
	// statement often has several findings.
	excerptOf, excerpt string
	// part is the offset in the statement's SQL of the part being judged (a column of CREATE TABLE, a
	// subcommand of ALTER TABLE), where its findings stand; 0 while the statement as a whole is. parts is
	// where the first of its parts starts (what comes before is the statement's head).
	part, parts int
	// dropping are the CHECKs of the table an ALTER TABLE alters that the same statement drops, by DROP
	// CONSTRAINT or by dropping a column they use (see droppedChecks); nil outside an ALTER TABLE.
	dropping map[string]bool
	// fkScans are the add-foreign-key findings of the ALTER TABLE being judged, by index in out, with the
	// referenced table: their lock is restated once every subcommand is judged (see alterEffects).
	fkScans []fkScan
	// atCmds are the subcommands of the ALTER TABLE being judged; nil outside one.
	atCmds []*pg_query.Node
	first  int       // index in out of the statement's first finding
	lock   lockLevel // strongest lock the statement takes on a pre-existing relation
	// strongRels are the pre-existing relations the statement takes SHARE ROW EXCLUSIVE or stronger on,
	// as far as it says (see strongOn).
	strongRels []heldLock
	// lockKind is the relkind of the relation that lock is on, as far as the statement tells (see
	// relkindWord): "" for a table or a relation of a kind the statement does not say.
	lockKind string
	// queue, when set, is what missing-lock-timeout says of the statement where its strongest lock alone
	// does not tell what queues behind its wait.
	queue *lockQueue

	explicitTx bool // inside BEGIN … COMMIT written in the file
	// block numbers the transaction block open now, or the one that was last (see stmtFacts.block).
	block int
	// beginStmt is the statement that opened the file's own transaction block: its BEGIN, or the
	// COMMIT AND CHAIN (ROLLBACK AND CHAIN) that started the transaction now open.
	beginStmt *sqlparse.Statement
	// toolBegin is a BEGIN written inside the transaction the tool runs the migration in, which
	// PostgreSQL ignores: the COMMIT that closes it ends the tool's transaction.
	toolBegin *sqlparse.Statement
	// prepared maps the gid of each PREPARE TRANSACTION of the script that no later COMMIT PREPARED or
	// ROLLBACK PREPARED ends to the index in out of its finding.
	prepared      map[string]int
	txAE          bool   // the current transaction holds ACCESS EXCLUSIVE on a pre-existing relation
	txStrong      bool   // … or SHARE ROW EXCLUSIVE
	txAEKind      string // the relkind of the relation txAE is on, as its first statement tells (see lockKind)
	txAfterAEDone bool
	// txAfterAECheap says a statement after the ACCESS EXCLUSIVE of the current transaction was judged
	// cheap (see afterAE): a later cheap one says nothing more, a later costly one is dangerous still.
	txAfterAECheap bool
	// txAEKeys are the keys of the pre-existing relations the current transaction holds ACCESS
	// EXCLUSIVE on, as far as each statement's target tells; txNewCols the columns (colKey) the
	// migration's ALTER TABLEs add (see afterAE).
	txAEKeys     map[string]bool
	txNewCols    map[string]bool
	txNotValid   map[string]bool
	pendingEnum  []int // findings of ALTER TYPE … ADD VALUE waiting for a later statement in the tx
	txEnumValues []txEnumValue
	lockTimeout  timeout
	stmtTimeout  timeout
	// utcZone is the session's TimeZone set by the script to a zone of fixed offset zero (SET TIME ZONE
	// 'UTC'), under which PostgreSQL 12+ changes timestamp to timestamptz and back without a rewrite. It
	// follows SET, SET LOCAL, RESET and ROLLBACK as the timeouts do ("on" is UTC).
	utcZone timeout
	// txStrongOn names the relations of txStrong, as the statements wrote them, in the order taken,
	// each with the strongest of those locks on it.
	txStrongOn []heldLock
	// txStart is how the timeouts stood when the current transaction began (ROLLBACK goes back to it),
	// and savepoints how they stood at each SAVEPOINT of it, innermost last.
	txStart         timeouts
	savepoints      []savepoint
	stmtTimeoutDone bool
	// lockTimeoutAt is the index in out of the missing-lock-timeout raised last, -1 before the first.
	lockTimeoutAt int
	alters        map[string]int
	roles         map[string]bool // roles created earlier in the migration
	facts         *scriptFacts

	// added are the columns the migration adds to pre-existing tables, by colKey: a SET NOT NULL of one
	// later in the migration is better written in its ADD COLUMN (see addedColumn).
	added map[string]*addedColumn
}

// scriptFacts is what the static analysis knows about each statement of a script that the rehearsal's
// evidence is judged with. Every finding of the script points to it, so ApplyEvidence finds the facts of
// any statement of the script, also of one with no finding of its own (a DO block's ALTER, a function
// call).
type scriptFacts struct {
	file  string
	stmts map[[2]int]stmtFacts // by the statement's line and column
}

// stmtFacts are the facts of one statement.
type stmtFacts struct {
	// lockTimeout says a lock_timeout is in effect when the statement starts: the script set one earlier
	// (and did not turn it off since), or schemagate deploy sets one (deploy then says which, as
	// missing-lock-timeout's message does).
	lockTimeout bool
	deploy      string
	// escalate says a strong lock taken without a lock_timeout is dangerous, as missing-lock-timeout
	// is unless the configuration makes that rule safe or turns it off.
	escalate bool
	// scanAdvice is what table-scan suggests when the trace shows the statement scan a table under a
	// lock that blocks writes (scanSuggestion): "" for the rule's own.
	scanAdvice string
	// shortScans are relations (by the name the trace gives them) that the trace may show the statement
	// scan in full where production reads little of them: the target of an UPDATE or DELETE whose WHERE a
	// key range bounds (on the empty rehearsal database the planner picks a sequential scan over the
	// key's index), a table that gets a NOT NULL column without a default (its check stops at the first
	// row, which fails the statement, as add-column-required says).
	shortScans map[string]bool
	// block numbers the transaction block the tool runs the statement in, from 1 in the script: the
	// tool's transaction, or each BEGIN … COMMIT of the script's own. 0 when none is open (psql outside
	// the script's BEGIN … COMMIT): the statement is a transaction of its own. The rehearsal may have run
	// the script in one transaction; under the tool a statement holds no lock a statement of another
	// block took.
	block int
	// counted says the static analysis counted a lock of the statement for missing-lock-timeout: SHARE
	// or stronger on a relation it knows existed, or one whose wait it judged (DROP INDEX CONCURRENTLY).
	counted bool
	// known are locks the static analysis knows the statement takes and counted for missing-lock-timeout
	// though no finding claims them, by the name the trace gives the relation: harmless under a
	// lock_timeout, they are no unexplained lock (CREATE INDEX … ON ONLY a partitioned table: SHARE).
	known map[string]lockLevel
	// relTimeout, for a DO block, is how lock_timeout stood for each relation its statements name (by
	// the name the trace gives it) at the statements that may lock it (in effect only if at every one);
	// lockTimeout and deploy stand for the relations it does not list. Nil when a statement of the block
	// that ran without a lock_timeout may have locked relations it does not name.
	relTimeout map[string]relCover
	// dropIfExists names (as the statement writes them) the relations of a DROP … IF EXISTS that the
	// rules could not tell exist: whether it does anything the trace can tell (see DidNothing).
	dropIfExists []string
}

// relCover is how lock_timeout stood for a relation's lock: in effect (by the script, or by the deploy
// only, which deploy then describes) or not.
type relCover struct {
	covered bool
	deploy  string
}

// coverFor returns the facts' lockTimeout and deploy as they stand for a lock on relation rel (as the
// trace names it; "" for the statement as a whole).
func (f stmtFacts) coverFor(rel string) (covered bool, deploy string) {
	if c, ok := f.relTimeout[rel]; ok && rel != "" {
		return c.covered, c.deploy
	}
	return f.lockTimeout, f.deploy
}

// at returns the facts of the statement at line and column.
func (sf *scriptFacts) at(line, col int) (stmtFacts, bool) {
	if sf == nil {
		return stmtFacts{}, false
	}
	f, ok := sf.stmts[[2]int{line, col}]
	return f, ok
}

func newAnalyzer(s *migrate.Script, inTx bool, cfg Config) *analyzer {
	return newAnalyzerState(s, inTx, cfg, loadSchema(cfg))
}

func newAnalyzerState(s *migrate.Script, inTx bool, cfg Config, st *state) *analyzer {
	a := &analyzer{cfg: cfg, script: s, toolTx: inTx, format: cfg.Format, st: st, alters: map[string]int{}, added: map[string]*addedColumn{}, txNotValid: map[string]bool{},
		prepared: map[string]int{}, lockTimeoutAt: -1, txAEKeys: map[string]bool{}, txNewCols: map[string]bool{}, facts: &scriptFacts{file: s.File, stmts: map[[2]int]stmtFacts{}}}
	if inTx {
		a.block = 1
	}
	return a
}

// loadSchema is the state Config.Schema describes: complete when it is given.
func loadSchema(cfg Config) *state {
	st := newState()
	if cfg.Schema != "" {
		st.complete = true
		for _, s := range sqlparse.Parse(cfg.Schema) {
			st.learnStatement(&s, false)
		}
		st.schema = defaultSchema // the schema's own SET search_path does not reach the migration
		st.forgetTemp()           // nor do its temporary tables
	}
	for key, id := range cfg.ChangeCreated {
		st.change[key] = id
		st.know(key, true)
	}
	return st
}

// timeout follows one timeout setting through the script: SET changes it for the session, SET LOCAL
// only until the transaction ends (and not at all outside a transaction block).
type timeout struct {
	session, sessionOff bool // set to a value; turned off (0, DEFAULT, RESET)
	local, localOff     bool
	localSet            bool // a SET LOCAL of the current transaction overrides the session's value
	// sessionMS and localMS are the values set, in milliseconds, while on; 0 when not known (a value
	// that is no constant).
	sessionMS, localMS float64
}

func (t *timeout) on() bool {
	if t.localSet {
		return t.local
	}
	return t.session
}

// ms is the value in effect, in milliseconds, while on; 0 when off or not known.
func (t *timeout) ms() float64 {
	switch {
	case !t.on():
		return 0
	case t.localSet:
		return t.localMS
	}
	return t.sessionMS
}

// setValue is set for a value of ms milliseconds (0: not known) that turns the setting on.
func (t *timeout) setValue(ms float64, local, inTx bool) {
	t.set(true, local, inTx)
	switch {
	case local && !inTx:
	case local:
		t.localMS = ms
	default:
		t.sessionMS = ms
	}
}

// off tells whether the script turned the setting off, which also undoes one the deploy set.
func (t *timeout) off() bool {
	if t.localSet {
		return t.localOff
	}
	return t.sessionOff
}

// set records SET (local false) or SET LOCAL of the setting to a value (on) or off; inTx says whether a
// transaction block is open, without which SET LOCAL does nothing.
func (t *timeout) set(on, local, inTx bool) {
	switch {
	case local && !inTx:
	case local:
		t.local, t.localOff, t.localSet = on, !on, true
	default:
		t.session, t.sessionOff, t.localSet = on, !on, false
	}
}

// endTx forgets the transaction's SET LOCAL.
func (t *timeout) endTx() { t.localSet = false }

// worse is the timeout that stands when either x or y may: on only where both are, turned off where
// either is, now and after the transaction ends (for a statement that may or may not run).
func worse(x, y timeout) timeout {
	w := timeout{session: x.session && y.session, sessionOff: x.sessionOff || y.sessionOff, localSet: x.localSet || y.localSet,
		sessionMS: max(x.sessionMS, y.sessionMS)}
	if w.localSet {
		w.local, w.localOff, w.localMS = x.on() && y.on(), x.off() || y.off(), max(x.ms(), y.ms())
	}
	return w
}

// timeouts are the lock and statement timeouts together, as a transaction or a savepoint saw them.
type timeouts struct{ lock, stmt, zone timeout }

// savepoint is a SAVEPOINT of the open transaction and the timeouts at it.
type savepoint struct {
	name string
	at   timeouts
}

// timeouts returns the timeouts in effect now.
func (a *analyzer) timeouts() timeouts { return timeouts{a.lockTimeout, a.stmtTimeout, a.utcZone} }

// restoreTimeouts puts the timeouts back to t: ROLLBACK undoes every SET and SET LOCAL of the
// transaction, ROLLBACK TO SAVEPOINT those since the savepoint.
func (a *analyzer) restoreTimeouts(t timeouts) {
	a.lockTimeout, a.stmtTimeout, a.utcZone = t.lock, t.stmt, t.zone
}

func (a *analyzer) inTx() bool { return a.toolTx || a.explicitTx }

// refusesTx raises concurrently-in-transaction for what, a statement that cannot run inside a
// transaction block, when one is open, and tells whether it did. When the block is only the transaction
// a script of no known format is taken to run in (a FILE given to lint alone), the finding says so, and
// how to tell its format (Config.FormatHint): its tool may well run it outside one.
func (a *analyzer) refusesTx(what string) bool {
	if !a.inTx() {
		return false
	}
	msg := what + " cannot run inside a transaction block: the deploy fails"
	if !a.explicitTx && (a.format == "" || a.format == migrate.FormatAuto) && a.cfg.FormatHint != "" {
		msg = what + " cannot run inside a transaction block: the deploy fails if the migration's tool runs the file in one, " +
			"as lint takes it to, not knowing its format; " + a.cfg.FormatHint
	}
	a.add("concurrently-in-transaction", msg)
	return true
}

// stmtExcerpt is shorten of the current statement.
func (a *analyzer) stmtExcerpt() string {
	if a.excerptOf != a.stmt.SQL || a.excerpt == "" {
		a.excerptOf, a.excerpt = a.stmt.SQL, shorten(a.stmt.SQL)
	}
	return a.excerpt
}

// add records a finding of rule id on the current statement. msg replaces the rule's summary when set.
func (a *analyzer) add(id, msg string) *Finding {
	r, ok := Lookup(id)
	if !ok {
		r = Rule{ID: id, Risk: Dangerous}
	}
	if msg == "" {
		msg = r.Summary
	}
	f := Finding{Rule: r.ID, Risk: r.Risk, File: a.script.File, Line: a.stmt.Pos.Line, Column: a.stmt.Pos.Column,
		Message: msg, Lock: r.Lock, Rewrite: r.Rewrite, Scan: r.Scan, Suggestion: r.Suggestion, URL: r.URL(),
		Source: "static", Statement: a.stmtExcerpt(), facts: a.facts}
	if a.part > 0 {
		if p := a.stmt.PosOf(a.part); p.Line != f.Line || p.Column != f.Column {
			f.moveTo(p.Line, p.Column)
		}
		if excerpt := partExcerpt(a.stmt.SQL, a.parts, a.part); excerpt != "" {
			f.wholeStatement, f.Statement = f.Statement, excerpt
		}
	}
	a.out = append(a.out, f)
	return &a.out[len(a.out)-1]
}

// deployCovers adjusts a missing-timeout finding for schemagate deploy, which sets setting (its value
// in each environment given by value) before it applies the migration. When every environment sets it, the
// finding becomes safe, unless the script turned the setting off earlier (off), which undoes the deploy's
// timeout too.
func (a *analyzer) deployCovers(f *Finding, setting string, value func(DeployEnvironment) time.Duration, off bool, more string) {
	where, ok := a.deployTimeout(setting, value)
	if !ok {
		return // an environment without it (or no deploy): the rule's class stands
	}
	if off {
		f.Message += fmt.Sprintf("; an earlier statement turns %s off, undoing the deploy's %s", setting, where)
		return
	}
	f.Risk = Safe
	f.Message += fmt.Sprintf("; schemagate deploy runs it with %s%s", where, more)
	f.Suggestion = "nothing for schemagate deploy; if the migration also reaches the database another way, SET " + setting + " in it"
	if a.aloneAdvice(setting) != "" {
		// A SET in the script would break it there (see aloneAdvice): that way sets it on its connection.
		f.Suggestion = "nothing for schemagate deploy; if the migration also reaches the database another way, set " + setting +
			" on that connection (options=-c%20" + setting + "%3D… in its URL), not in the script, where it would make this statement run in a transaction"
	}
}

// deployTimeout describes the timeout setting that schemagate deploy sets in every environment (value
// gives it): "lock_timeout = 5s (environment production)", "lock_timeout (3s in production, 5s in
// staging)". ok is false when no deploy is configured or an environment does not set it.
func (a *analyzer) deployTimeout(setting string, value func(DeployEnvironment) time.Duration) (where string, ok bool) {
	envs := a.cfg.Deploy
	if len(envs) == 0 {
		return "", false
	}
	names := make([]string, len(envs))
	values := make([]string, len(envs))
	same := true
	for i, e := range envs {
		if value(e) <= 0 {
			return "", false
		}
		names[i], values[i] = e.Name, shortDuration(value(e))
		same = same && values[i] == values[0]
	}
	switch {
	case same && len(envs) == 1:
		return fmt.Sprintf("%s = %s (environment %s)", setting, values[0], names[0]), true
	case same:
		return fmt.Sprintf("%s = %s (environments %s)", setting, values[0], strings.Join(names, ", ")), true
	}
	each := make([]string, len(envs))
	for i := range envs {
		each[i] = values[i] + " in " + names[i]
	}
	return fmt.Sprintf("%s (%s)", setting, strings.Join(each, ", ")), true
}

// noteFacts records the facts of the current statement (n nil when it did not parse), as it starts.
func (a *analyzer) noteFacts(n *pg_query.Node) {
	sf := stmtFacts{lockTimeout: a.lockTimeout.on(), escalate: true}
	if a.inTx() {
		sf.block = a.block
	}
	if !sf.lockTimeout && !a.lockTimeout.off() {
		sf.deploy, sf.lockTimeout = a.deployTimeout("lock_timeout", func(e DeployEnvironment) time.Duration { return e.LockTimeout })
	}
	if class, set := a.cfg.Rules["missing-lock-timeout"]; set {
		r, err := ParseRisk(class)
		sf.escalate = err == nil && r != Safe // "off" or safe: a missing lock_timeout is accepted
	}
	if n != nil {
		sf.scanAdvice = scanSuggestion(n)
	}
	a.facts.stmts[[2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}] = sf
}

// scansShort notes that the trace may show the statement scan rv in full where production reads
// little of it (stmtFacts.shortScans).
func (a *analyzer) scansShort(rv *pg_query.RangeVar) {
	k := [2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}
	sf := a.facts.stmts[k]
	if sf.shortScans == nil {
		sf.shortScans = map[string]bool{}
	}
	sf.shortScans[traceName(a.st.rel(rv))] = true
	a.facts.stmts[k] = sf
}

// shortDuration writes d in the largest unit PostgreSQL's settings take that divides it: 5s, 2min, 1h.
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dmin", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
}

// takes notes that the statement takes lock l on a pre-existing table (or a relation whose kind it
// does not tell).
func (a *analyzer) takes(l lockLevel) { a.takesOn(l, "") }

// takesOn notes that the statement takes lock l on a pre-existing relation of relkind kind.
func (a *analyzer) takesOn(l lockLevel, kind string) {
	switch {
	case l > a.lock:
		a.lock, a.lockKind = l, kind
	case l == a.lock && kind != a.lockKind:
		a.lockKind = mixedKinds
	}
}

// takesKnown is takes(l) for a lock on rv that no finding will claim: the rehearsal's sight of it is
// explained (stmtFacts.known).
func (a *analyzer) takesKnown(l lockLevel, rv *pg_query.RangeVar) { a.takesKnownKey(l, a.st.rel(rv)) }

// takesKnownKey is takesKnown for the relation of state key key.
func (a *analyzer) takesKnownKey(l lockLevel, key string) {
	a.takes(l)
	k := [2]int{a.stmt.Pos.Line, a.stmt.Pos.Column}
	sf := a.facts.stmts[k]
	if sf.known == nil {
		sf.known = map[string]lockLevel{}
	}
	rel := traceName(key)
	sf.known[rel] = max(sf.known[rel], l)
	a.facts.stmts[k] = sf
}

// lockMark is the statement's strongest lock so far and its relation's kind, to go back to.
type lockMark struct {
	lock lockLevel
	kind string
}

// heldLock is a lock a transaction holds on a relation, named as the script wrote it.
// fkScan is an add-foreign-key finding (out[at]) of an ALTER TABLE, referencing table ref.
type fkScan struct {
	at  int
	ref string
}

type heldLock struct {
	rel  string
	lock lockLevel
}

// withLock is held with lock l on rel added: a relation is listed once, with its strongest lock.
func withLock(held []heldLock, rel string, l lockLevel) []heldLock {
	if rel == "" {
		return held
	}
	for i := range held {
		if held[i].rel == rel {
			held[i].lock = max(held[i].lock, l)
			return held
		}
	}
	return append(held, heldLock{rel, l})
}

// strongOn records that the statement takes lock l, SHARE ROW EXCLUSIVE or stronger, on the
// pre-existing relations rels, so that a later statement of its transaction can name them
// (validate-in-same-transaction).
func (a *analyzer) strongOn(l lockLevel, rels ...string) {
	for _, rel := range rels {
		a.strongRels = withLock(a.strongRels, rel, l)
	}
}

func (a *analyzer) mark() lockMark { return lockMark{a.lock, a.lockKind} }

// mixedKinds is the lockKind of a statement whose strongest lock is on relations of several kinds.
const mixedKinds = "*"

// objectRelkind is the relkind (as pg_class.relkind writes it) of the relations ALTER, DROP or RENAME
// of object type t act on: "" for a table, and for a type that does not tell (ALTER TABLE also takes
// views and sequences).
func objectRelkind(t pg_query.ObjectType) string {
	switch t {
	case pg_query.ObjectType_OBJECT_VIEW:
		return "v"
	case pg_query.ObjectType_OBJECT_MATVIEW:
		return "m"
	case pg_query.ObjectType_OBJECT_SEQUENCE:
		return "S"
	case pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
		return "f"
	}
	return ""
}

// relkindOf is the relkind of relation rv, named by a statement of object type t, for messages and
// what queues behind its lock: the kind the state knows (Config.Schema, earlier statements), else what
// t says (see objectRelkind). A table's, and an index's, is "".
func (a *analyzer) relkindOf(rv *pg_query.RangeVar, t pg_query.ObjectType) string {
	switch k, ok := a.st.kinds[a.st.rel(rv)]; {
	case !ok || rv == nil:
		return objectRelkind(t)
	case k == "r", k == "p", k == "i":
		return ""
	default:
		return k
	}
}

// relkindWord names a relation of relkind k in messages; a kind it has no word for (an index, whose
// lock holds up its table's queries) is a table's.
func relkindWord(k string) string {
	switch k {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "S":
		return "sequence"
	case "f":
		return "foreign table"
	case mixedKinds:
		return "relation"
	}
	return "table"
}

func (a *analyzer) statement(i int, st *sqlparse.Statement) {
	a.stmt, a.stmtIdx, a.first, a.lock, a.lockKind, a.queue, a.part, a.parts = st, i, len(a.out), lockNone, "", nil, 0, 0
	a.strongRels = nil
	if st.Err != nil {
		a.noteFacts(nil)
		a.parseError(st)
		a.st.learnStatement(st, true)
		a.applyIgnores()
		return
	}
	if st.Node == nil {
		return
	}
	a.noteFacts(st.Node)
	if len(a.pendingEnum) > 0 && a.inTx() && !isTxControl(st.Node) {
		for _, k := range a.pendingEnum {
			a.out[k].Risk = Caution
			a.out[k].Message = "ALTER TYPE … ADD VALUE followed by more statements in the same transaction: the new value cannot be used until COMMIT"
		}
		a.pendingEnum = nil
	}
	if a.inTx() && !isTxControl(st.Node) {
		a.usesNewEnumValue(st)
	}
	if a.inTx() && a.txAE && !a.txAfterAEDone && !isTxControl(st.Node) && st.Node.GetVariableSetStmt() == nil {
		msg := fmt.Sprintf("statement runs while this transaction already holds ACCESS EXCLUSIVE on a pre-existing %s, which stays locked until COMMIT", relkindWord(a.txAEKind))
		switch cheap, why := a.afterAE(st.Node); {
		case !cheap:
			a.txAfterAEDone = true
			a.add("statement-after-access-exclusive", msg+": it may wait for a lock on another relation, or do work that grows with the data "+
				"(a scan, a rewrite, a backfill, an index build, a validation, a function call), and every query on the "+relkindWord(a.txAEKind)+" waits as long")
		case !a.txAfterAECheap:
			a.txAfterAECheap = true
			f := a.add("statement-after-access-exclusive", msg+": "+why+", which takes no lock another session holds (it touches only what this "+
				"transaction holds ACCESS EXCLUSIVE on, or objects new to the migration) and does no work that grows with the data, so it holds the lock little longer")
			f.Risk = Caution
		}
	}
	a.noteAddedColumns(st.Node)
	a.check(st.Node)
	a.noteChange(st.Node)
	a.missingLockTimeout()
	if a.lock >= lockSUE && !a.stmtTimeout.on() && !a.stmtTimeoutDone {
		a.stmtTimeoutDone = true
		f := a.add("missing-statement-timeout", "DDL on a pre-existing relation without an earlier SET statement_timeout")
		if advice := a.aloneAdvice("statement_timeout"); advice != "" {
			f.Suggestion = advice
		}
		a.deployCovers(f, "statement_timeout", func(e DeployEnvironment) time.Duration { return e.StatementTimeout }, a.stmtTimeout.off(), "")
	}
	if a.inTx() {
		if a.lock == lockAE && !a.txAE {
			a.txAE, a.txAEKind = true, a.lockKind
		}
		if at := st.Node.GetAlterTableStmt(); a.lock == lockAE && at != nil {
			// Other statements' targets are not counted.
			for _, k := range a.alterAEKeys(at) {
				a.txAEKeys[k] = true
			}
		}
		if a.lock >= lockSRE {
			a.txStrong = true
			if len(a.strongRels) == 0 {
				// A statement that does not say which of its relations it locks strongly (DROP, TRUNCATE,
				// LOCK TABLE …) locks its target so.
				a.strongOn(a.lock, relName(targetRelation(st.Node)))
			}
			for _, h := range a.strongRels {
				a.txStrongOn = withLock(a.txStrongOn, h.rel, h.lock)
			}
		}
	}
	a.st.learnStatement(st, true)
	a.applyIgnores()
}

// alterAEKeys are the state keys of the relations ALTER TABLE at takes ACCESS EXCLUSIVE on, as its
// subcommands say: its table only when one of them locks it so (a FOREIGN KEY's lock on the referenced
// table is weaker), and for ATTACH PARTITION the partition and the DEFAULT partition, while PostgreSQL
// 12 and later take only SHARE UPDATE EXCLUSIVE on the partitioned table: a later ALTER of that one
// waits for the sessions that use it, though the statement's strongest lock was ACCESS EXCLUSIVE.
func (a *analyzer) alterAEKeys(at *pg_query.AlterTableStmt) []string {
	var keys []string
	if at.Relation != nil && slices.ContainsFunc(a.strongRels, func(h heldLock) bool { return h.rel == relName(at.Relation) && h.lock == lockAE }) {
		keys = append(keys, a.st.rel(at.Relation))
	}
	for _, c := range at.Cmds {
		if cmd := c.GetAlterTableCmd(); cmd.GetSubtype() == pg_query.AlterTableType_AT_AttachPartition {
			if rv := cmd.Def.GetPartitionCmd().GetName(); rv != nil {
				keys = append(keys, a.st.rel(rv))
			}
			if def := a.st.defaultPart[a.st.rel(at.Relation)]; def != "" && at.Objtype != pg_query.ObjectType_OBJECT_INDEX {
				keys = append(keys, def)
			}
		}
	}
	return keys
}

// noteChange adds to the findings of the statement that the relation it acts on was created by an
// earlier new migration of the change: the lock and rewrite rules let it be, so what they say is for
// other reasons.
func (a *analyzer) noteChange(n *pg_query.Node) {
	if len(a.out) == a.first || len(a.st.change) == 0 {
		return
	}
	rv := targetRelation(n)
	if rv == nil {
		return
	}
	id, ok := a.st.change[a.st.rel(rv)]
	if !ok {
		return
	}
	for i := a.first; i < len(a.out); i++ {
		a.out[i].Message += fmt.Sprintf(" (%s was created by migration %s of this change)", relName(rv), id)
	}
}

// targetRelation is the relation a statement acts on, when it acts on one (the first, of several).
func targetRelation(n *pg_query.Node) *pg_query.RangeVar {
	first := func(ns []*pg_query.Node) *pg_query.RangeVar {
		if len(ns) == 0 {
			return nil
		}
		return ns[0].GetRangeVar()
	}
	switch {
	case n.GetIndexStmt() != nil:
		return n.GetIndexStmt().Relation
	case n.GetAlterTableStmt() != nil:
		return n.GetAlterTableStmt().Relation
	case n.GetRenameStmt() != nil:
		return n.GetRenameStmt().Relation
	case n.GetCreateTrigStmt() != nil:
		return n.GetCreateTrigStmt().Relation
	case n.GetRuleStmt() != nil:
		return n.GetRuleStmt().Relation
	case n.GetCreatePolicyStmt() != nil:
		return n.GetCreatePolicyStmt().Table
	case n.GetAlterPolicyStmt() != nil:
		return n.GetAlterPolicyStmt().Table
	case n.GetUpdateStmt() != nil:
		return n.GetUpdateStmt().Relation
	case n.GetDeleteStmt() != nil:
		return n.GetDeleteStmt().Relation
	case n.GetInsertStmt() != nil:
		return n.GetInsertStmt().Relation
	case n.GetMergeStmt() != nil:
		return n.GetMergeStmt().Relation
	case n.GetRefreshMatViewStmt() != nil:
		return n.GetRefreshMatViewStmt().Relation
	case n.GetClusterStmt() != nil:
		return n.GetClusterStmt().Relation
	case n.GetTruncateStmt() != nil:
		return first(n.GetTruncateStmt().Relations)
	case n.GetLockStmt() != nil:
		return first(n.GetLockStmt().Relations)
	}
	return nil
}

func isTxControl(n *pg_query.Node) bool { return n.GetTransactionStmt() != nil }

func (l lockLevel) String() string {
	switch l {
	case lockAS:
		return "ACCESS SHARE"
	case lockRS:
		return "ROW SHARE"
	case lockRX:
		return "ROW EXCLUSIVE"
	case lockSUE:
		return "SHARE UPDATE EXCLUSIVE"
	case lockSH:
		return "SHARE"
	case lockSRE:
		return "SHARE ROW EXCLUSIVE"
	case lockEX:
		return "EXCLUSIVE"
	case lockAE:
		return "ACCESS EXCLUSIVE"
	}
	return "no lock"
}

// newerSyntax are constructs that the embedded (PG17) grammar rejects but newer servers accept.
var newerSyntax = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bNOT\s+NULL\s+(?:"[^"]+"|\w+)\s+NOT\s+VALID\b`), // PG18 NOT NULL constraint, NOT VALID
	regexp.MustCompile(`(?i)\bVIRTUAL\b`),
	regexp.MustCompile(`(?i)\b(?:NOT\s+)?ENFORCED\b`),
	regexp.MustCompile(`(?i)^\s*REPACK\b`),
	regexp.MustCompile(`(?i)\bSET\s+EXPRESSION\b`),
	regexp.MustCompile(`(?i)\bWITHOUT\s+OVERLAPS\b`),
	regexp.MustCompile(`(?i)\bPERIOD\b`),
	regexp.MustCompile(`(?i)\bMERGE\s+PARTITIONS\b`),
	regexp.MustCompile(`(?i)\bSPLIT\s+PARTITION\b`),
	regexp.MustCompile(`(?i)\b(?:OLD|NEW)\s*\.`),
}

// newerSyntaxAt tells whether the parser stopped at a newer-syntax construct: the error's offset in
// sql (off) falls inside one, or right after it with only white space between. A construct elsewhere in
// the statement says nothing about an error at another place.
func newerSyntaxAt(sql string, off int) bool {
	for _, re := range newerSyntax {
		for _, m := range re.FindAllStringIndex(sql, -1) {
			if off >= m[0] && off <= m[1] {
				return true
			}
			if off > m[1] && off <= len(sql) && strings.TrimSpace(sql[m[1]:off]) == "" {
				return true
			}
		}
	}
	return false
}

// parseError reports a statement the embedded grammar rejects. One that looks like syntax newer than
// the grammar is left to the rehearsal (caution) only on a target newer than the grammar: a target of
// the grammar's version or older has no such syntax either, so the statement fails there.
func (a *analyzer) parseError(st *sqlparse.Statement) {
	f := a.add("parse-error", "syntax error: "+st.Err.Message)
	f.Line, f.Column = st.Err.Pos.Line, st.Err.Pos.Column
	if !newerSyntaxAt(st.SQL, st.Err.Pos.Offset-st.Pos.Offset) {
		return
	}
	if major := a.cfg.Major(); major <= sqlparse.GrammarVersion {
		f.Message = fmt.Sprintf("statement does not parse with the PostgreSQL %d grammar (%s): it looks like syntax of a newer release, which PostgreSQL %d, the target, does not have either, so the statement fails there and the deploy stops",
			sqlparse.GrammarVersion, st.Err.Message, major)
		return
	}
	f.Risk = Caution
	f.Message = fmt.Sprintf("statement does not parse with the PostgreSQL %d grammar (%s); it looks like newer syntax, so the rehearsal on the target server judges it", sqlparse.GrammarVersion, st.Err.Message)
}

func (a *analyzer) finish() {
	a.dropPendingEnum()
	if a.explicitTx && a.beginStmt != nil {
		a.stmt, a.first = a.beginStmt, len(a.out)
		msg, applies := a.leftOpen()
		f := a.add("transaction-boundaries", msg)
		if applies {
			f.Risk = Caution
		}
		a.ignoreFindings(false) // the BEGIN's comments were already checked for reasons
	}
}

// leftOpen is what transaction-boundaries says of a script that ends inside the transaction its BEGIN
// (or a COMMIT/ROLLBACK AND CHAIN) opened, and whether the migration applies all the same: what then
// happens is the tool's doing, and differs.
//   - goose, dbmate, sql-migrate and Flyway (and Atlas, taken to do alike) run the migration in a
//     transaction of their own and commit it, with their version row, when the script ends:
//     PostgreSQL ignored the BEGIN (with a warning), so that COMMIT commits what the script did. The
//     migration applies; the BEGIN only misleads (caution).
//   - golang-migrate sends the file as one query, then records the version in a transaction of its own
//     on the same connection: its postgres driver (lib/pq) refuses to begin that transaction in one
//     already open ("pq: unexpected transaction status"), so migrate fails with the migration rolled
//     back and its version left dirty; its pgx drivers send the BEGIN, which PostgreSQL ignores, and
//     the version's COMMIT commits the migration.
//   - psql (sqitch, plain folders) rolls the open transaction back when the script ends and still
//     exits 0 (sqitch then records the change as deployed); a tool running the migration outside a
//     transaction may record it in that transaction (goose's NO TRANSACTION runs its version INSERT
//     on its connection pool, which hands back the connection the script left in it) and lose the
//     record with it: the migration silently does not apply.
func (a *analyzer) leftOpen() (msg string, applies bool) {
	chain := isChain(a.beginStmt.Node)
	switch {
	case a.format == migrate.FormatGolangMigrate:
		what := "BEGIN without COMMIT leaves the transaction open after the file"
		if chain {
			what = "the transaction this AND CHAIN starts is never committed by the file"
		}
		return what + ", and golang-migrate then records the version in a transaction of its own on the same connection: " +
			"with its postgres driver (lib/pq) that fails (pq: unexpected transaction status), the migration is rolled back and the version is left dirty until `migrate force`; " +
			"with its pgx driver PostgreSQL ignores that BEGIN with a warning and the version's COMMIT commits the migration; end the transaction with COMMIT", false
	case a.toolTx && (a.format == migrate.FormatGoose || a.format == migrate.FormatDbmate || a.format == migrate.FormatSQLMigrate ||
		a.format == migrate.FormatFlyway || a.format == migrate.FormatAtlas):
		what := "BEGIN without COMMIT inside the transaction the tool runs the migration in: PostgreSQL ignores the BEGIN with a warning, and"
		if chain {
			what = "the transaction this AND CHAIN starts is never committed by the script:"
		}
		return what + " the tool's own COMMIT at the end commits the migration with its version row, so it applies; " +
			"run by psql the same file would be rolled back: remove the BEGIN, or end it with COMMIT", true
	case a.format == "" || a.format == migrate.FormatAuto:
		// A script of no known folder (lint of standard input): which tool runs it decides.
		what := "BEGIN without COMMIT"
		if chain {
			what = "the transaction this AND CHAIN starts is never committed"
		}
		return what + ": run by psql (sqitch, a plain folder) or golang-migrate's postgres driver the migration silently does not apply or fails, " +
			"while goose, dbmate, sql-migrate and Flyway commit it with their own transaction; end the transaction with COMMIT", false
	}
	// sqitch writes its registry on a connection of its own once psql exits 0 (Engine.pm deploy_change):
	// the change is recorded as deployed though nothing of it is, unless its verify script runs.
	recorded := ""
	if a.format == migrate.FormatSqitch {
		recorded = "; sqitch records the change as deployed all the same (on a connection of its own), unless deploy --verify runs a verify script that notices"
	}
	if chain {
		return "the transaction this AND CHAIN starts is never committed: psql rolls it back when the script ends (and still exits 0), and a tool running the migration outside a transaction " +
			"may record it in that transaction and lose the record with it, so what the migration does after it silently does not apply" + recorded, false
	}
	return "BEGIN without COMMIT: the transaction is never committed: psql rolls it back when the script ends (and still exits 0), and a tool running the migration outside a transaction " +
		"may record it in that transaction and lose the record with it, so the migration silently does not apply" + recorded, false
}

// result is the script's findings in the order of the text, as a compiler lists them (one raised at the
// end of the script, such as an unclosed BEGIN's, stands where its statement does), with the
// configuration applied: overridden classes, rules turned off, opt-in rules.
func (a *analyzer) result() []Finding {
	inTextOrder(a.out)
	return configured(a.cfg, a.out)
}

// configured applies the configuration's classes to findings (in place): a rule set "off", or an
// opt-in rule not turned on, drops its findings; a class replaces their risk. Withdrawn findings (no
// rule) are dropped.
func configured(cfg Config, fs []Finding) []Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.Rule == "" {
			continue // withdrawn
		}
		class, set := cfg.Rules[f.Rule]
		if !set {
			if r, ok := Lookup(f.Rule); ok && r.Off {
				continue
			}
			out = append(out, f)
			continue
		}
		if strings.EqualFold(class, "off") {
			continue
		}
		if r, err := ParseRisk(class); err == nil {
			f.Risk = r
		}
		out = append(out, f)
	}
	return out
}

// partExcerpt is the excerpt of a statement for a finding about its part at offset part, when the
// statement's own excerpt would cut the part off: the statement's head (up to offset parts, where its
// parts start: "ALTER TABLE orders") and the text from the part on, "ALTER TABLE orders ... ALTER
// COLUMN note SET NOT NULL". Empty when the statement's excerpt shows the part.
func partExcerpt(sql string, parts, part int) string {
	const shown = 40 // of the part, at least, in the statement's excerpt
	if parts <= 0 || part <= parts || part > len(sql) || len(sqlparse.OneLine(sql[:part]))+shown <= maxExcerpt {
		return ""
	}
	head := sqlparse.OneLine(sql[:parts])
	if len(head) > maxExcerpt/2 {
		return ""
	}
	return shorten(head + " ... " + sqlparse.OneLine(sql[part:]))
}

// shorten is a finding's excerpt of its statement: on one line, white space inside literals and quoted
// identifiers kept (sqlparse.OneLine), cut at 200 bytes.
// maxExcerpt is how many bytes of a statement a finding's excerpt shows.
const maxExcerpt = 200

func shorten(sql string) string {
	sql = sqlparse.OneLine(sql)
	if len(sql) > maxExcerpt {
		cut := maxExcerpt - 3
		for cut > 0 && sql[cut]&0xc0 == 0x80 {
			cut--
		}
		sql = sql[:cut] + "..."
	}
	return sql
}

// ToolFindings are what a migration's own tool cannot run, whatever the parse tree says: inline COPY
// data under a tool that does not send scripts through psql (copy-data-unsupported-by-tool).
func ToolFindings(m *migrate.Migration, format migrate.Format, cfg Config) []Finding {
	switch format {
	case migrate.FormatGolangMigrate, migrate.FormatGoose, migrate.FormatDbmate, migrate.FormatSQLMigrate:
	default:
		return nil // psql (sqitch, plain), Flyway and Atlas load the rows; schemagate deploy too
	}
	r, _ := Lookup("copy-data-unsupported-by-tool")
	var out []Finding
	for _, s := range []*migrate.Script{m.Up, m.Down} {
		if s == nil {
			continue
		}
		for _, st := range s.Statements {
			if !st.FromStdin {
				continue
			}
			out = append(out, Finding{Rule: r.ID, Risk: r.Risk, File: s.File, Line: st.Pos.Line, Column: st.Pos.Column, Statement: st.SQL,
				Message:    fmt.Sprintf("%s does not send the rows after COPY … FROM STDIN (psql does): under %s this migration fails; schemagate deploy loads them", format, format),
				Suggestion: r.Suggestion, URL: r.URL()})
		}
	}
	return configured(cfg, out)
}
