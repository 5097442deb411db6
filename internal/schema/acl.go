package schema

import (
	"fmt"
	"slices"
	"strings"
)

// This file writes the privileges part of a generated down as the difference between two ACLs: each
// grantee loses what the up gave it and gets back what the up took, and a grantee the up did not touch
// is not named. The role the catalogs were read as, the one that ran the migrations on the throwaway
// database, is written CURRENT_USER, as owner, grantee and the role of default privileges: the down
// runs as the role that ran the migrations, whose name in production is not the rehearsal's (postgres),
// and a role of that name may not exist there at all.

// roleIn is how a statement of the down names role name (as ACL entries and owners print it): PUBLIC
// for "", CURRENT_USER for the role the catalogs were read as.
func (g *downGen) roleIn(name string) string {
	switch {
	case name == "":
		return "PUBLIC"
	case g.isUser(name):
		g.asUser = true
		return "CURRENT_USER"
	}
	return role(name)
}

// isUser tells whether name (as ACL entries and owners print it) is the role the catalogs were read as.
func (g *downGen) isUser(name string) bool {
	u := g.a.User
	if u == "" {
		u = g.b.User
	}
	return u != "" && role(name) == role(u)
}

// aclItem is one entry of an ACL: grantee (empty for PUBLIC), grantor and privilege letters ("arw*").
type aclItem struct{ grantee, grantor, privs string }

// aclItems reads an ACL ("grantee=privileges/grantor", joined by commas).
func aclItems(acl string) []aclItem {
	var out []aclItem
	for _, it := range strings.Split(acl, ",") {
		grantee, rest, ok := strings.Cut(it, "=")
		if !ok {
			continue
		}
		privs, grantor, _ := strings.Cut(rest, "/")
		out = append(out, aclItem{grantee, grantor, privs})
	}
	return out
}

// aclLetterSet reads privilege letters into letter -> with grant option, and their order.
func aclLetterSet(letters string) (map[byte]bool, []byte) {
	set, order := map[byte]bool{}, []byte{}
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		if _, ok := aclLetters[c]; !ok {
			continue
		}
		option := i+1 < len(letters) && letters[i+1] == '*'
		if option {
			i++
		}
		if _, seen := set[c]; !seen {
			order = append(order, c)
		}
		set[c] = set[c] || option
	}
	return set, order
}

// newOwnerACL is acl after ALTER ... OWNER TO changes the owner from old to owner: PostgreSQL puts the
// new owner in the old one's place, as grantee and as grantor, and merges the entries that then have
// the same grantee and grantor (aclnewowner).
func newOwnerACL(acl, old, owner string) string {
	if acl == "" || old == "" || owner == "" || role(old) == role(owner) {
		return acl
	}
	var items []aclItem
	for _, it := range aclItems(acl) {
		if role(it.grantee) == role(old) && it.grantee != "" {
			it.grantee = owner
		}
		if role(it.grantor) == role(old) {
			it.grantor = owner
		}
		i := slices.IndexFunc(items, func(x aclItem) bool {
			return role(x.grantee) == role(it.grantee) && (x.grantee == "") == (it.grantee == "") && role(x.grantor) == role(it.grantor)
		})
		if i < 0 {
			items = append(items, it)
			continue
		}
		set, order := aclLetterSet(items[i].privs)
		more, moreOrder := aclLetterSet(it.privs)
		for _, c := range moreOrder {
			if _, ok := set[c]; !ok {
				order = append(order, c)
			}
			set[c] = set[c] || more[c]
		}
		items[i].privs = lettersOf(set, order)
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.grantee + "=" + it.privs + "/" + it.grantor
	}
	return strings.Join(parts, ",")
}

func lettersOf(set map[byte]bool, order []byte) string {
	var b strings.Builder
	for _, c := range order {
		b.WriteByte(c)
		if set[c] {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// aclDiff adds the REVOKEs and GRANTs that take the ACL have to want, grantee by grantee: what a
// grantee has and should not is revoked (its grant option alone when it keeps the privilege), what it
// should have and has not is granted. prefix goes before each statement (ALTER DEFAULT PRIVILEGES ...),
// columns ("" or "(col)") after each privilege, on is what the privileges are on (TABLE t, SCHEMA s,
// TABLES); what says whose privileges they are, in each step's comment.
func (g *downGen) aclDiff(prefix, what, want, have, columns, on string) {
	type key struct{ grantee, grantor string }
	wantBy, haveBy := map[key]string{}, map[key]string{}
	var keys []key
	for _, side := range []struct {
		acl string
		by  map[key]string
	}{{want, wantBy}, {have, haveBy}} {
		for _, it := range aclItems(side.acl) {
			k := key{it.grantee, role(it.grantor)}
			if it.grantee != "" {
				k.grantee = role(it.grantee)
			}
			side.by[k] += it.privs
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	// Revokes first: a grantee's GRANT may give back (with or without its option) what it revoked.
	type stmts struct{ revoke, revokeOption, grant, grantOption []string }
	var grantees []string
	by := map[string]*stmts{}
	for _, k := range keys {
		w, worder := aclLetterSet(wantBy[k])
		h, horder := aclLetterSet(haveBy[k])
		if _, ok := by[k.grantee]; !ok {
			by[k.grantee] = &stmts{}
			grantees = append(grantees, k.grantee)
		}
		s := by[k.grantee]
		for _, c := range horder {
			option, kept := w[c]
			switch {
			case !kept:
				s.revoke = append(s.revoke, aclLetters[c])
			case h[c] && !option:
				s.revokeOption = append(s.revokeOption, aclLetters[c])
			}
		}
		for _, c := range worder {
			had, ok := h[c]
			switch {
			case w[c] && !had:
				s.grantOption = append(s.grantOption, aclLetters[c])
			case !ok:
				s.grant = append(s.grant, aclLetters[c])
			}
		}
	}
	withColumns := func(privs []string) string {
		out := slices.Clone(privs)
		if columns != "" {
			for i := range out {
				out[i] += " " + columns
			}
		}
		return strings.Join(out, ", ")
	}
	for _, grantee := range grantees {
		s, to := by[grantee], g.roleIn(grantee)
		if len(s.revoke) > 0 {
			g.add(fmt.Sprintf("%s: revoke %s from %s", what, strings.Join(s.revoke, ", "), to),
				fmt.Sprintf("%sREVOKE %s ON %s FROM %s", prefix, withColumns(s.revoke), on, to))
		}
		if len(s.revokeOption) > 0 {
			g.add(fmt.Sprintf("%s: revoke the grant option of %s from %s", what, strings.Join(s.revokeOption, ", "), to),
				fmt.Sprintf("%sREVOKE GRANT OPTION FOR %s ON %s FROM %s", prefix, withColumns(s.revokeOption), on, to))
		}
	}
	for _, grantee := range grantees {
		s, to := by[grantee], g.roleIn(grantee)
		if len(s.grant) > 0 {
			g.add(fmt.Sprintf("%s: grant %s to %s", what, strings.Join(s.grant, ", "), to),
				fmt.Sprintf("%sGRANT %s ON %s TO %s", prefix, withColumns(s.grant), on, to))
		}
		if len(s.grantOption) > 0 {
			g.add(fmt.Sprintf("%s: grant %s to %s with grant option", what, strings.Join(s.grantOption, ", "), to),
				fmt.Sprintf("%sGRANT %s ON %s TO %s WITH GRANT OPTION", prefix, withColumns(s.grantOption), on, to))
		}
	}
}
