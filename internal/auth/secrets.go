package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// SecretBox encrypts the secrets the register must be able to read back, the keys of
// second-factor apps, so that a copy of the database (a backup, a dump handed to a
// developer) does not give away anyone's second factor: the key lives in the data
// directory, not in the database. AES-256-GCM; each secret is bound to the account it
// belongs to, so that one account's sealed secret copied onto another does not open.
type SecretBox struct {
	aead cipher.AEAD
}

// sealedPrefix marks a sealed secret (and its format's version). TOTP secrets are base32,
// which has no colon, so a secret stored before sealing existed is told apart.
const sealedPrefix = "v1:"

// NewSecretBox returns a box for a 32-byte key.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("auth: the secrets key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

var errNoSecretBox = errors.New("auth: no secrets key configured")

// Seal encrypts secret for the account userID.
func (b *SecretBox) Seal(userID, secret string) (string, error) {
	if b == nil {
		return "", errNoSecretBox
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(secret)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(secret), []byte(userID))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open decrypts what Seal made for userID. A secret stored before sealing existed is
// returned as it is (SealStoredTOTP seals those at start-up).
func (b *SecretBox) Open(userID, stored string) (string, error) {
	rest, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	if b == nil {
		return "", errNoSecretBox
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("auth: a sealed secret is damaged")
	}
	plain, err := b.aead.Open(nil, raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():], []byte(userID))
	if err != nil {
		return "", errors.New("auth: a sealed secret does not open with this key for this account")
	}
	return string(plain), nil
}

// SealStoredTOTP seals the second-factor secrets stored in the clear, by a version of the
// register before they were sealed, and returns how many it sealed.
func (s *Service) SealStoredTOTP(ctx context.Context) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, totp_secret FROM users
			WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'v1:%' FOR UPDATE`)
		if err != nil {
			return err
		}
		type plain struct{ id, secret string }
		found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (plain, error) {
			var p plain
			return p, row.Scan(&p.id, &p.secret)
		})
		if err != nil {
			return err
		}
		for _, p := range found {
			sealed, err := s.Secrets.Seal(p.id, p.secret)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = $2 WHERE id = $1`, p.id, sealed); err != nil {
				return err
			}
		}
		n = len(found)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("auth: seal stored second-factor secrets: %w", err)
	}
	return n, nil
}
