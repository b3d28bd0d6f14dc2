package middleware

import (
	"strings"

	"github.com/smartauth/smartauth/middleware/scope"
)

// scopeHint names the scopes that would allow interaction i on typ: one
// per context the token uses (patient/ only if a patient/ scope could
// count), or patient/ and user/ if it uses none.
func scopeHint(lc *LaunchContext, patientOK bool, typ string, i scope.Interaction) string {
	letter := scope.PermissionFor(i).String()
	if letter == "" {
		return ""
	}
	var used [scope.System + 1]bool
	found := false
	for _, sc := range lc.Scopes.Scopes() {
		if sc.Kind == scope.KindClinical && (sc.Context != scope.Patient || patientOK) {
			used[sc.Context], found = true, true
		}
	}
	if !found {
		used[scope.Patient], used[scope.User] = patientOK, true
	}
	var b strings.Builder
	for c := scope.Patient; c <= scope.System; c++ {
		if !used[c] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.String())
		b.WriteByte('/')
		b.WriteString(typ)
		b.WriteByte('.')
		b.WriteString(letter)
	}
	return b.String()
}
