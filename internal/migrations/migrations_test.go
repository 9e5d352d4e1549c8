package migrations_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oafetch/oafetch/internal/migrations"
)

func TestLoadOrdersByVersion(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_b.sql":  {Data: []byte("B")},
		"m/0010_c.sql":  {Data: []byte("C")},
		"m/0001_a.sql":  {Data: []byte("A")},
		"m/readme.txt":  {Data: []byte("ignored")},
		"other/0003.sq": {Data: []byte("ignored")},
	}
	ms, err := migrations.Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if strings.Join(got, ",") != "0001_a=A,0002_b=B,0010_c=C" {
		t.Errorf("Load = %v", got)
	}
}

func TestLoadRefusesBadNames(t *testing.T) {
	t.Parallel()
	for name, fsys := range map[string]fstest.MapFS{
		"no number": {"m/init.sql": {}},
		"zero":      {"m/0000_x.sql": {}},
		"duplicate": {"m/0001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := migrations.Load(fsys, "m"); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
