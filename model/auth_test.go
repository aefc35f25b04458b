package model

import (
	"strings"
	"testing"
)

func TestRouteRole(t *testing.T) {
	for pattern, want := range map[string]Role{
		"GET /jobs":                                    RoleReader,
		"GET /deployment-group/{name}":                 RoleReader,
		"POST /jobs":                                   RoleDeployer,
		"PUT /hosts/{host}/jobs/{id}":                  RoleDeployer,
		"PATCH /hosts/{host}/jobs/{id}":                RoleDeployer,
		"POST /deployment-group/{name}/rolling-update": RoleDeployer,
		"DELETE /jobs/{id}":                            RoleAdmin,
		"DELETE /hosts/{host}":                         RoleAdmin,
		"PUT /hosts/{host}":                            RoleAdmin,
		"DELETE /deployment-group/{name}":              RoleAdmin,
		"OPTIONS /jobs":                                RoleAdmin,
	} {
		if got := RouteRole(pattern); got != want {
			t.Errorf("RouteRole(%q) = %s, want %s", pattern, got, want)
		}
	}
	if !RoleAdmin.Allows(RoleDeployer) || RoleReader.Allows(RoleDeployer) || Role("").Allows(RoleReader) {
		t.Fatal("role order wrong")
	}
}

func TestParseTokenFile(t *testing.T) {
	good := "# ops\n0123456789abcdef,alice,admin\n\n fedcba9876543210 , bob , Deployer \n"
	got, err := ParseTokenFile([]byte(good))
	if err != nil || len(got) != 2 || got["0123456789abcdef"] != (Principal{"alice", RoleAdmin}) || got["fedcba9876543210"] != (Principal{"bob", RoleDeployer}) {
		t.Fatalf("ParseTokenFile = %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"short,alice,admin":                                   "at least 16",
		"0123456789abcdef,alice":                              "want token,user,role",
		"0123456789abcdef,alice,root":                         `unknown role "root"`,
		"0123456789abcdef,,admin":                             "empty user",
		"0123456789abcdef,a,admin\n0123456789abcdef,b,reader": "already given to a",
		"# nothing\n":                                         "no tokens",
	} {
		if _, err := ParseTokenFile([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTokenFile(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func FuzzParseTokenFile(f *testing.F) {
	f.Add("0123456789abcdef,alice,admin\n")
	f.Add("x,y,z")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseTokenFile([]byte(s))
		if err != nil {
			return
		}
		for tok, p := range ps {
			if len(tok) < 16 || p.User == "" || p.Role.rank() == 0 {
				t.Fatalf("accepted %q -> %+v", tok, p)
			}
		}
	})
}
