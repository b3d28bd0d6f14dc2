package redisstore

import (
	"encoding/hex"

	"github.com/smartauth/smartauth/tokenstore"
)

// keyspace names the keys of one Store. Every key starts with tag, the
// braced prefix, which is therefore the hash tag of every key: all the keys
// of a Store hash to the same Redis Cluster slot.
//
//	{prefix}g:<grant ID>        grant (hash)
//	{prefix}t:<hex token hash>  refresh-token record (hash)
//	{prefix}o:<key>             UseOnce record (string: expiry, µs)
type keyspace struct {
	tag string // "{" + prefix + "}"
}

func (k keyspace) grantPrefix() string { return k.tag + "g:" }

func (k keyspace) grant(id string) string { return k.grantPrefix() + id }

func (k keyspace) token(h tokenstore.Hash) string {
	const p = "t:"
	b := make([]byte, 0, len(k.tag)+len(p)+hex.EncodedLen(len(h)))
	b = append(b, k.tag...)
	b = append(b, p...)
	b = hex.AppendEncode(b, h[:])
	return string(b)
}

func (k keyspace) once(key string) string { return k.tag + "o:" + key }
