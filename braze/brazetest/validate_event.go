package brazetest

import "unicode/utf8"

// validProperties validates the properties of an event or purchase.
func validProperties(props *jv, maxBytes int) bool {
	if props.k == kNull {
		return true
	}
	if props.k != kObject {
		return false
	}
	nested := 0
	for i := range props.o {
		k := props.o[i].key
		if k == "" || utf8.RuneCountInString(k) > maxStringLen || k[0] == '$' || k == "time" || k == "event_name" {
			return false
		}
		val := &props.o[i].val
		switch val.k {
		case kString:
			if utf8.RuneCountInString(val.s) > maxStringLen {
				return false
			}
		case kArray, kObject:
			nested += len(val.s)
		}
	}
	return nested <= maxBytes
}

// event validates an event object beyond its identifier.
func validateEvent(obj *jv) string {
	name, ok := obj.get("name")
	if !ok || name.k == kNull {
		return required("name")
	}
	if name.k != kString || name.s == "" || utf8.RuneCountInString(name.s) > maxStringLen {
		return notValid("name")
	}
	if msg := validateTime(obj); msg != "" {
		return msg
	}
	if app, ok := obj.get("app_id"); ok && app.k != kNull && app.k != kString {
		return notValid("app_id")
	}
	if props, ok := obj.get("properties"); ok && !validProperties(props, maxNestedBytes) {
		return notValid("properties")
	}
	return ""
}

// validatePurchase validates a purchase object beyond its identifier.
func validatePurchase(obj *jv) string {
	pid, ok := obj.get("product_id")
	if !ok || pid.k == kNull {
		return required("product_id")
	}
	if pid.k != kString || pid.s == "" || utf8.RuneCountInString(pid.s) > maxStringLen {
		return notValid("product_id")
	}
	cur, ok := obj.get("currency")
	if !ok || cur.k == kNull {
		return required("currency")
	}
	if cur.k != kString || !currencySet[cur.s] {
		return notValid("currency")
	}
	price, ok := obj.get("price")
	if !ok || price.k == kNull {
		return required("price")
	}
	if price.k != kNumber {
		return notValid("price")
	}
	if q, ok := obj.get("quantity"); ok && q.k != kNull {
		if !isInteger(q) {
			return notValid("quantity")
		}
		n, ok := numberValue(q.s).(int64)
		if !ok || n < 1 || n > maxQuantity {
			return notValid("quantity")
		}
	}
	if msg := validateTime(obj); msg != "" {
		return msg
	}
	if app, ok := obj.get("app_id"); ok && app.k != kNull && app.k != kString {
		return notValid("app_id")
	}
	if props, ok := obj.get("properties"); ok && !validProperties(props, maxPurchasePropsB) {
		return notValid("properties")
	}
	return ""
}

func validateTime(obj *jv) string {
	t, ok := obj.get("time")
	if !ok || t.k == kNull {
		return required("time")
	}
	if t.k != kString {
		return notValid("time")
	}
	if _, ok := parseBrazeTime(t.s); !ok {
		return notValid("time")
	}
	return ""
}
