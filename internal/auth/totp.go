package auth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const totpPeriod = 30

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrolment is a freshly generated second-factor key, shown once to the user to scan.
type TOTPEnrolment struct {
	Secret string
	URL    string
	QRCode string // a data: URL of a PNG
}

// NewTOTP generates a key for email.
func NewTOTP(email string) (*TOTPEnrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Algorithm Registry", AccountName: email})
	if err != nil {
		return nil, fmt.Errorf("auth: totp key: %w", err)
	}
	return enrolmentFor(email, key.Secret())
}

// matchTOTP returns the time step code is valid for (allowing one step of clock drift either
// way), or 0 when it matches none.
func matchTOTP(secret, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0
	}
	step := now.Unix() / totpPeriod
	for _, s := range []int64{step - 1, step, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s
		}
	}
	return 0
}

// useTOTP checks code for the user and records its step, so that a code works only once
// (a code read over someone's shoulder cannot be replayed).
func (s *Service) useTOTP(ctx context.Context, tx pgx.Tx, u *User, code string) (bool, error) {
	secret, err := s.Secrets.Open(u.ID, u.totpSecret)
	if err != nil {
		return false, err
	}
	step := matchTOTP(secret, code, s.Now())
	if step == 0 || step <= u.totpLastStep {
		return false, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`, u.ID, step)
	if err != nil {
		return false, fmt.Errorf("auth: record totp step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// enrolmentFor rebuilds the enrolment of an existing secret (to show it again after a typo).
func enrolmentFor(email, secret string) (*TOTPEnrolment, error) {
	key, err := otp.NewKeyFromURL("otpauth://totp/Algorithm%20Registry:" + url.PathEscape(email) +
		"?issuer=Algorithm%20Registry&secret=" + url.QueryEscape(secret))
	if err != nil {
		return nil, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &TOTPEnrolment{Secret: secret, URL: key.URL(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}
