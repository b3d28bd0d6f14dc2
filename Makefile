# Convenience targets; the README's commands work without make.
.PHONY: demo test ci bench fuzz

demo:
	go run ./examples/fhirserver

test:
	go test -race ./...

ci:
	bash .ci/run

bench:
	go test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 1m
fuzz:
	go test -run '^$$' -fuzz '^FuzzBearerHeader$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/
	go test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/scope/
	go test -run '^$$' -fuzz '^FuzzMatch$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/internal/fhirspec/
	go test -run '^$$' -fuzz '^FuzzInPatientCompartment$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/internal/fhirspec/
	go test -run '^$$' -fuzz '^FuzzParseReference$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/internal/fhirspec/
	go test -run '^$$' -fuzz '^FuzzReplacer$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./examples/internal/fhirproxy/
	go test -run '^$$' -fuzz '^FuzzVerifyResponse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/
	go test -run '^$$' -fuzz '^FuzzAuthorizeRequest$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/authserver/
	go test -run '^$$' -fuzz '^FuzzInteractionField$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./middleware/authserver/
