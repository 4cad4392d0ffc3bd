package emulators

import "testing"

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:0":    true,
		"127.0.0.1:8080": true,
		"[::1]:9000":     true,
		"localhost:80":   true,
		":8080":          false, // every interface
		"0.0.0.0:8080":   false,
		"192.168.1.5:80": false,
		"example.com:80": false,
		"127.0.0.1":      false, // no port
	} {
		if err := CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}
