package aer

import "testing"

func TestKeyMap(t *testing.T) {
	// Two populations with 2048-key blocks, as sPyNNaker allocates them
	// (the live-output vector in the reference has keys 0x800..0x80f).
	m, err := NewKeyMap(PortKeys{Port: 1, Base: 0x800, Mask: 0xFFFFF800}, PortKeys{Port: 2, Base: 0x1000, Mask: 0xFFFFF800})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		port    uint16
		channel uint32
		key     uint32
		ok      bool
	}{
		{1, 0, 0x800, true},
		{1, 0xf, 0x80f, true},
		{2, 5, 0x1005, true},
		{1, 0x800, 0, false}, // channel too wide
		{3, 0, 0, false},     // unknown port
	}
	for _, tc := range tests {
		got, ok := m.Key(tc.port, tc.channel)
		if got != tc.key || ok != tc.ok {
			t.Errorf("Key(%d, %d): got %#x %v, want %#x %v", tc.port, tc.channel, got, ok, tc.key, tc.ok)
		}
		if tc.ok {
			p, c, ok := m.Lookup(tc.key)
			if p != tc.port || c != tc.channel || !ok {
				t.Errorf("Lookup(%#x): got %d %d %v", tc.key, p, c, ok)
			}
		}
	}
	evs := []Event{{Port: 1, Channel: 3}, {Port: 9, Channel: 1}}
	if n := m.ToKeys(evs); n != 1 || evs[0].Channel != 0x803 {
		t.Errorf("ToKeys: %d unmapped, %v", n, evs)
	}
	if n := m.FromKeys(evs[:1]); n != 0 || evs[0] != (Event{Port: 1, Channel: 3}) {
		t.Errorf("FromKeys: %d unmapped, %v", n, evs[0])
	}
	if _, err := NewKeyMap(PortKeys{Port: 1, Base: 0x800, Mask: 0xFFFFF800}, PortKeys{Port: 2, Base: 0x800, Mask: 0xFFFFFF00}); err == nil {
		t.Error("overlapping ports accepted")
	}
	if _, err := NewKeyMap(PortKeys{Port: 1, Base: 0x801, Mask: 0xFFFFF800}); err == nil {
		t.Error("base outside mask accepted")
	}
}

func TestParseKeyMap(t *testing.T) {
	m, err := ParseKeyMap("1=0x800/0xfffff800, 2=4096/0xfffff800")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := m.Key(2, 3); !ok || k != 0x1003 {
		t.Errorf("Key(2, 3): got %#x %v", k, ok)
	}
	for _, bad := range []string{"", "1=0x800", "x=1/2", "1=0x801/0xfffff800", "70000=0/0"} {
		if _, err := ParseKeyMap(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}
