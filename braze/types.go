package braze

// UserAlias identifies a user by an alias (a name within a label), for users
// who have no external_id.
type UserAlias struct {
	Name  string // sent as alias_name
	Label string // sent as alias_label
}

// Gender is the value of the gender profile field.
type Gender string

// The gender values Braze accepts. A null gender (NullField[Gender]()) means
// unknown.
const (
	GenderMale           Gender = "M"
	GenderFemale         Gender = "F"
	GenderOther          Gender = "O"
	GenderNotApplicable  Gender = "N"
	GenderPreferNotToSay Gender = "P"
)

// SubscriptionStatus is the value of email_subscribe and push_subscribe.
type SubscriptionStatus string

// The global subscription states.
const (
	// OptedIn is an explicit opt-in.
	OptedIn SubscriptionStatus = "opted_in"
	// Subscribed is neither opted in nor unsubscribed.
	Subscribed SubscriptionStatus = "subscribed"
	// Unsubscribed is an explicit opt-out.
	Unsubscribed SubscriptionStatus = "unsubscribed"
)

// GroupState is the state of a user in one subscription group.
type GroupState string

// The subscription group states.
const (
	GroupSubscribed   GroupState = "subscribed"
	GroupUnsubscribed GroupState = "unsubscribed"
)

// SubscriptionGroupState sets a user's state in one subscription group.
type SubscriptionGroupState struct {
	GroupID string     // sent as subscription_group_id
	State   GroupState // sent as subscription_state
}

// Location is a point on Earth, the value of current_location.
type Location struct {
	Latitude  float64
	Longitude float64
}

// Facebook is the facebook profile field. Zero-valued members are omitted.
type Facebook struct {
	ID         string
	Likes      []string
	NumFriends int64
}

// Twitter is the twitter profile field. Braze types the id as an integer,
// unlike several other clients. Zero-valued members are omitted.
type Twitter struct {
	ID             int64
	ScreenName     string
	FollowersCount int64
	FriendsCount   int64
	StatusesCount  int64
}

// PushToken is one entry of push_tokens. DeviceID is optional; Braze picks
// a random one when it is empty.
type PushToken struct {
	AppID    string
	Token    string
	DeviceID string
}

// Increment adds n to an integer custom attribute ({"inc": n}). It is not
// idempotent: a replayed request increments again.
type Increment int64

// ArrayUpdate adds elements to and removes elements from a string-array
// custom attribute ({"add": [...], "remove": [...]}). Braze de-duplicates
// string arrays, so replaying it is harmless.
type ArrayUpdate struct {
	Add    []string
	Remove []string
}

// ObjectRef selects the items of an array-of-objects attribute whose Key
// member equals Value.
type ObjectRef struct {
	Key   string // sent as $identifier_key
	Value any    // sent as $identifier_value
}

// ObjectUpdate deep-merges NewObject into the items selected by Key and
// Value (needs MergeObjects on the attributes object, or the items are
// overwritten).
type ObjectUpdate struct {
	Key       string
	Value     any
	NewObject map[string]any // sent as $new_object
}

// ObjectArrayUpdate changes an array-of-objects custom attribute with the
// $add, $remove and $update operations. $add is not idempotent (Braze does
// not de-duplicate objects). Braze applies $add before $remove, so removing
// and re-adding the same item must be done in two requests.
type ObjectArrayUpdate struct {
	Add    []map[string]any
	Remove []ObjectRef
	Update []ObjectUpdate
}
