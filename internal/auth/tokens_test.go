package auth

import (
	"strings"
	"testing"

	"github.com/civictech/registry/internal/apperr"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   string
		ok     bool
	}{
		{[]string{"Bearer reg_abc"}, "reg_abc", true},
		{[]string{"bearer reg_abc"}, "reg_abc", true},
		{[]string{"BEARER  reg_abc"}, "reg_abc", true},
		{[]string{"Bearer"}, "", false},
		{[]string{"Bearer "}, "", false},
		{[]string{"Basic xyz"}, "", false},
		{[]string{"Bearer a b"}, "", false},
		{[]string{"Bearer\treg_abc"}, "", false},
		{[]string{""}, "", false},
		{[]string{"Bearer a", "Bearer a"}, "", false},
	} {
		got, ok := bearerToken(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidateTokenName(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"  CI pipeline ", "CI pipeline", true},
		{strings.Repeat("é", MaxTokenName), strings.Repeat("é", MaxTokenName), true},
		{strings.Repeat("é", MaxTokenName+1), "", false},
		{"", "", false},
		{" \t ", "", false},
		{"two\nlines", "", false},
		{"bad \xff utf-8", "", false},
	} {
		got, err := validateTokenName(tc.name)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("validateTokenName(%q) = %q, %v", tc.name, got, err)
		}
		if err != nil {
			if e, _ := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields["name"] == "" {
				t.Errorf("validateTokenName(%q): error %v, want Invalid on field name", tc.name, err)
			}
		}
	}
}
