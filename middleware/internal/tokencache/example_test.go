package tokencache_test

import (
	"fmt"
	"time"

	"github.com/smartauth/smartauth/middleware/internal/tokencache"
)

func ExampleCache() {
	c := tokencache.New[string](100)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	c.Put("header.payload.signature", "patient-123", now.Add(time.Minute))

	v, ok := c.Get("header.payload.signature", now)
	fmt.Println(v, ok)
	_, ok = c.Get("header.payload.signature", now.Add(time.Minute))
	fmt.Println(ok)
	_, ok = c.Get("header.payload.other", now)
	fmt.Println(ok)
	// Output:
	// patient-123 true
	// false
	// false
}
