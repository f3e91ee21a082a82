# The entitlement check of libs/domain/src/decision/check.ts, in Rego: the peer
# that bench:check measures (compiled to WebAssembly by `opa build -t wasm`, and
# served by `opa run --server`). Same data (every entitlement of a customer, as
# the check's subjects), same precedence, same best-of rule across entitlements.
# Upgrade hints and reason texts are left out (they need the catalog); the
# benchmark asserts that allowed, code, entitlementId and remaining agree with
# ours for every request it sends.
#
# data.entitlements[customerId]: [{entitlementId, productId, planId, status,
#   validFromMs, validUntilMs, graceEndsMs, regions, features, seatHolders, devices}]
# data.usage[entitlementId][feature]: units used in the current period (absent: 0)
# input: {customerId, feature, userId?, deviceId?, region?, quantity?, productId?, atMs?}
package ledger.check

import rego.v1

now_ms := input.atMs if input.atMs

else := time.now_ns() / 1000000

quantity := input.quantity if input.quantity

else := 1

# Denials in precedence order, then the allowed outcomes (least preferred first).
rank := {
	"NO_ENTITLEMENT": 0, "REVOKED": 1, "SUSPENDED": 2, "NOT_YET_ACTIVE": 3, "EXPIRED": 4,
	"FEATURE_NOT_INCLUDED": 5, "REGION_BLOCKED": 6, "SEAT_NOT_ASSIGNED": 7, "DEVICE_LIMIT": 8,
	"USAGE_CAP_REACHED": 9, "OVERAGE": 10, "IN_GRACE": 11, "OK": 12,
}

outcome_of(e, allowed, code, remaining) := {"allowed": allowed, "code": code, "entitlementId": e.entitlementId, "remaining": remaining}

wrong_product(e) if {
	input.productId
	e.productId != input.productId
}

in_grace(e) if {
	e.validUntilMs != null
	now_ms >= e.validUntilMs
}

expired(e) if e.status == "expired"

expired(e) if {
	in_grace(e)
	now_ms >= e.graceEndsMs
}

not_in(x, list) if {
	list != null
	not x in list
}

outcome(e) := outcome_of(e, false, "REVOKED", null) if e.status == "revoked"

else := outcome_of(e, false, "SUSPENDED", null) if e.status == "suspended"

else := outcome_of(e, false, "NOT_YET_ACTIVE", null) if now_ms < e.validFromMs

else := outcome_of(e, false, "EXPIRED", null) if expired(e)

else := outcome_of(e, false, "FEATURE_NOT_INCLUDED", null) if not e.features[input.feature]

else := outcome_of(e, false, "REGION_BLOCKED", null) if not_in(input.region, e.regions)

else := outcome_of(e, false, "SEAT_NOT_ASSIGNED", null) if not_in(input.userId, e.seatHolders)

else := outcome_of(e, false, "DEVICE_LIMIT", null) if not_in(input.deviceId, e.devices)

else := capped(e, e.features[input.feature])

cap_of(g) := g.meter.cap if g.meter

else := g.limit

used(e) := max([0, data.usage[e.entitlementId][input.feature]]) if data.usage[e.entitlementId][input.feature]

else := 0

after(e, g) := max([used(e), quantity]) if g.meter.aggregation == "max"

else := used(e) + quantity

allowed_code(e) := "IN_GRACE" if in_grace(e)

else := "OK"

capped(e, g) := outcome_of(e, true, allowed_code(e), null) if not cap_of(g)

else := outcome_of(e, false, "USAGE_CAP_REACHED", max([0, cap_of(g) - used(e)])) if {
	after(e, g) > cap_of(g)
	g.meter.capType != "soft"
}

else := outcome_of(e, false, "USAGE_CAP_REACHED", max([0, cap_of(g) - used(e)])) if {
	after(e, g) > cap_of(g)
	not g.meter
}

else := outcome_of(e, true, "IN_GRACE", max([0, cap_of(g) - after(e, g)])) if in_grace(e)

else := outcome_of(e, true, "OVERAGE", max([0, cap_of(g) - after(e, g)])) if after(e, g) > cap_of(g)

else := outcome_of(e, true, "OK", max([0, cap_of(g) - after(e, g)]))

# In the customer's order: on a tie the first entitlement wins, as in check.ts.
outcomes := [outcome(e) | some e in data.entitlements[input.customerId]; not wrong_product(e)]

best_rank := max([rank[o.code] | some o in outcomes])

# Among the best-ranked outcomes, the most units left wins (null: unlimited).
best := o if {
	o := [x | some x in outcomes; rank[x.code] == best_rank; x.remaining == null][0]
} else := o if {
	most := max([x.remaining | some x in outcomes; rank[x.code] == best_rank])
	o := [x | some x in outcomes; rank[x.code] == best_rank; x.remaining == most][0]
}

default decision := {"allowed": false, "code": "NO_ENTITLEMENT", "entitlementId": null, "remaining": null}

decision := best if count(outcomes) > 0
