// Package randid makes the random identifiers and values the local runner hands out as AWS
// would: request and event ids (UUIDs), API Gateway ids and keys, generated passwords and
// signing secrets. It draws from crypto/rand.
package randid

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Alphabets of String.
const (
	// Alnum is the upper- and lower-case letters and the digits.
	Alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// LowerAlnum is the lower-case letters and the digits (API Gateway's ids).
	LowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	// Punctuation is the punctuation Secrets Manager's generated passwords may hold.
	Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// Bytes returns n random bytes.
func Bytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return b
}

// Hex returns the hex encoding of n random bytes.
func Hex(n int) string { return hex.EncodeToString(Bytes(n)) }

// UUID returns a random (version 4) UUID.
func UUID() string {
	b := Bytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// String returns n characters drawn uniformly from alphabet.
func String(n int, alphabet string) (string, error) {
	if alphabet == "" {
		return "", fmt.Errorf("random string: empty alphabet")
	}
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("random string: %w", err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String(), nil
}

// ID returns n characters of LowerAlnum, the shape of API Gateway's ids.
func ID(n int) string {
	s, err := String(n, LowerAlnum)
	if err != nil {
		panic(err) // the alphabet is not empty and crypto/rand does not fail
	}
	return s
}
