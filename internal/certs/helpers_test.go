package certs

import (
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
)

func base64Std(b []byte) string    { return base64.StdEncoding.EncodeToString(b) }
func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }
func bigInt(v int64) *big.Int      { return big.NewInt(v) }
