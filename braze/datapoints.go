package braze

// Data points are what Braze bills on data-point contracts. The estimate
// follows Braze's published rules (see the package documentation); Braze's
// own count is authoritative, and contracts billed on monthly active users
// do not bill data points at all.

// DataPoints estimates the data points Braze bills for this object:
//
//   - every standard field or custom attribute sent counts one, a null
//     (removal) included, since Braze counts the update and not the value;
//   - a string array counts one, whether set whole or changed with
//     ArrayUpdate; so does an Increment;
//   - a nested object counts one per key at every depth (the attribute's
//     own name is not counted); an array of objects counts the keys of
//     each of its objects, and an ObjectArrayUpdate the keys of every
//     added object and every $update's new object plus one per $remove;
//     an empty object or array still counts one;
//   - free: the identifiers (external_id, braze_id, user_alias, and email
//     or phone when they identify the user because no primary identifier
//     is given), _update_existing_only, _merge_objects, push_token_import,
//     and subscription states (email_subscribe, push_subscribe,
//     subscription_groups).
//
// Country and language are counted, although some integrators
// (RudderStack) treat them as free: an estimate for a bill should not come
// out low.
func (a *UserAttributes) DataPoints() int {
	if a == nil {
		return 0
	}
	primary := a.ExternalID != "" || a.BrazeID != "" || a.UserAlias != nil
	n := 0
	// email and phone: free when they are the identifier. Without a
	// primary identifier Braze looks the user up by email, else by phone;
	// the one not used for the lookup is an update.
	if a.Email.IsSet() && (primary || !a.Email.hasValue()) {
		n++
	}
	if a.Phone.IsSet() && (primary || a.Email.hasValue() || !a.Phone.hasValue()) {
		n++
	}
	for _, set := range []bool{
		a.Country.IsSet(), a.CurrentLocation.IsSet(), a.DateOfFirstSession.IsSet(),
		a.DateOfLastSession.IsSet(), a.DOB.IsSet(), a.EmailClickTrackingDisabled.IsSet(),
		a.EmailOpenTrackingDisabled.IsSet(), a.Facebook.IsSet(), a.FirstName.IsSet(),
		a.Gender.IsSet(), a.HomeCity.IsSet(), a.ImageURL.IsSet(), a.Language.IsSet(),
		a.LastName.IsSet(), a.MarkedEmailAsSpamAt.IsSet(), a.PushTokens.IsSet(),
		a.TimeZone.IsSet(), a.Twitter.IsSet(),
	} {
		if set {
			n++
		}
	}
	for _, v := range a.custom {
		n += customDataPoints(v)
	}
	return n
}

// customDataPoints counts one custom attribute's value or operation.
func customDataPoints(v any) int {
	switch x := v.(type) {
	case map[string]any:
		return max(1, nestedKeys(x))
	case []any:
		n := 0
		for _, it := range x {
			n += nestedValueKeys(it)
		}
		return max(1, n)
	case ObjectArrayUpdate:
		n := len(x.Remove)
		for _, m := range x.Add {
			n += nestedKeys(m)
		}
		for _, u := range x.Update {
			n += nestedKeys(u.NewObject)
		}
		return max(1, n)
	}
	return 1
}

// nestedKeys counts the keys of a nested object at every depth.
func nestedKeys(m map[string]any) int {
	n := 0
	for _, v := range m {
		n += 1 + nestedValueKeys(v)
	}
	return n
}

// nestedValueKeys counts the keys inside a nested value: those of an
// object, or of the objects in an array.
func nestedValueKeys(v any) int {
	switch x := v.(type) {
	case map[string]any:
		return nestedKeys(x)
	case []any:
		n := 0
		for _, it := range x {
			n += nestedValueKeys(it)
		}
		return n
	}
	return 0
}

// DataPoints estimates the data points Braze bills for the event: one per
// event, its properties included.
func (e *Event) DataPoints() int {
	if e == nil {
		return 0
	}
	return 1
}

// DataPoints estimates the data points Braze bills for the purchase: one
// per purchase object, its properties included.
func (p *Purchase) DataPoints() int {
	if p == nil {
		return 0
	}
	return 1
}

// DataPoints estimates the data points Braze bills for the update's object
// (see UserAttributes.DataPoints), 0 for an empty update.
func (u Update) DataPoints() int {
	return u.Attributes.DataPoints() + u.Event.DataPoints() + u.Purchase.DataPoints()
}
