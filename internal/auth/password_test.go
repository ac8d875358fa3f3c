package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashing(t *testing.T) {
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not Argon2id in PHC format", hash)
	}
	if ok, err := CheckPassword(hash, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("right password refused: %v", err)
	}
	if ok, _ := CheckPassword(hash, "correct horse battery stapler"); ok {
		t.Error("wrong password accepted")
	}
	other, _ := HashPassword("correct horse battery staple")
	if other == hash {
		t.Error("two hashes of one password are equal: no salt")
	}
	if _, err := CheckPassword("$2a$10$bcrypt", "x"); err == nil {
		t.Error("malformed hash accepted")
	}
}

func TestValidatePassword(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                  true,
		"elevenchars":            true,
		"twelve chars":           false,
		"çàèéíòóúüïl·l":          false, // 13 characters, more bytes
		strings.Repeat("x", 257): true,
	} {
		if got := ValidatePassword(pw) != ""; got != ok {
			t.Errorf("ValidatePassword(%q) refused = %v, want %v", pw, got, ok)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/workspace":            "/workspace",
		"/review?sort=age":      "/review?sort=age",
		"//evil.example":        "",
		"https://evil.example":  "",
		"/\\evil.example":       "",
		"javascript:alert(1)":   "",
		"/ok\r\nSet-Cookie: x=": "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
