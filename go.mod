module github.com/latchauth/latch

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	golang.org/x/crypto v0.59.0
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/syumai/workers v0.32.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
