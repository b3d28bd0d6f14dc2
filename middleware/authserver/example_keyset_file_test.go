package authserver_test

import (
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/smartauth/smartauth/middleware/authserver"
)

// A rotation across instances: each step is an edit of the shared key set
// file that every instance reloads (here one KeySet stands for them).
func ExampleKeySet_SetKeys() {
	june, _ := authserver.GenerateSigningKey("ES256")
	june.ID = "2025-06"
	september, _ := authserver.GenerateSigningKey("ES256")
	september.ID = "2025-09"

	file, err := authserver.MarshalKeySet([]authserver.ManagedKey{{SigningKey: june, Status: authserver.KeyActive}})
	if err != nil {
		log.Fatal(err)
	}
	keys, err := authserver.ParseKeySet(file, authserver.WithKeySetLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	show := func(step string) {
		var set struct{ Keys []struct{ Kid string } }
		b, _ := keys.PublicJWKS()
		_ = json.Unmarshal(b, &set)
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		fmt.Printf("%s: signs with %s, publishes %v\n", step, keys.ActiveKeyID(), kids)
	}
	show("start")

	// 1. Publish the next key.
	_ = keys.SetKeys([]authserver.ManagedKey{
		{SigningKey: june, Status: authserver.KeyActive},
		{SigningKey: september, Status: authserver.KeyNext},
	})
	show("1")
	// 2. Once every instance publishes it: activate it, and retire the old
	// key until its last token has expired.
	_ = keys.SetKeys([]authserver.ManagedKey{
		{SigningKey: september, Status: authserver.KeyActive},
		{SigningKey: june, Status: authserver.KeyRetired,
			RetireAfter: time.Now().Add(authserver.DefaultKeySetWatchInterval + authserver.DefaultAccessTokenLifetime + time.Minute)},
	})
	show("2")
	// 4. After retire_after, remove it.
	_ = keys.SetKeys([]authserver.ManagedKey{{SigningKey: september, Status: authserver.KeyActive}})
	show("4")
	// Output:
	// start: signs with 2025-06, publishes [2025-06]
	// 1: signs with 2025-06, publishes [2025-06 2025-09]
	// 2: signs with 2025-09, publishes [2025-09 2025-06]
	// 4: signs with 2025-09, publishes [2025-09]
}
