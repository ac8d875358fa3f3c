package auth

import (
	"bytes"
	"strings"
	"testing"
)

func TestSecretBox(t *testing.T) {
	box, err := NewSecretBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	sealed, err := box.Seal("user-a", secret)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, sealedPrefix) || strings.Contains(sealed, secret) {
		t.Fatalf("sealed %q: want the v1: prefix and not the secret", sealed)
	}
	if again, _ := box.Seal("user-a", secret); again == sealed {
		t.Error("sealing twice gave the same text: the nonce is not fresh")
	}
	if got, err := box.Open("user-a", sealed); err != nil || got != secret {
		t.Fatalf("Open: %q, %v", got, err)
	}
	if _, err := box.Open("user-b", sealed); err == nil {
		t.Error("another account's sealed secret opened")
	}
	other, _ := NewSecretBox(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open("user-a", sealed); err == nil {
		t.Error("the secret opened with another key")
	}
	damaged := sealed[:len(sealed)-2] + "AA"
	if _, err := box.Open("user-a", damaged); err == nil {
		t.Error("a damaged secret opened")
	}
	if got, err := box.Open("user-a", secret); err != nil || got != secret {
		t.Errorf("a secret stored in the clear: %q, %v; want it back as it is", got, err)
	}
	var none *SecretBox
	if _, err := none.Seal("user-a", secret); err == nil {
		t.Error("sealed without a key")
	}
	if _, err := NewSecretBox(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}
