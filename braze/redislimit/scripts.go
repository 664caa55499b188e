package redislimit

import "github.com/redis/go-redis/v9"

// The burst window is redis_rate's GCRA. These scripts hold what GCRA
// cannot express: the fixed clock-hour budget and the pause and slow-down
// learned from responses. Each runs atomically in Redis and reads the time
// from the Redis server, so every process agrees on the hour whatever its
// own clock says.

// admitScript runs after GCRA admitted a request: it holds the request
// while a shared pause lasts, and counts it against the hourly budget.
//
// KEYS[1] pause key, KEYS[2] slow key, KEYS[3] base of the hourly counters
// (the counter of hour h is KEYS[3]..":"..h, h = floor(unix seconds /
// ARGV[2]); it lives in KEYS[3]'s hash slot through the prefix's hash tag).
// ARGV[1] hourly limit (0: none), ARGV[2] hour length in seconds (3600; tests
// shorten it).
//
// Returns {admitted (0/1), wait ms, slow rate (string, "0" when none), slow
// ms left}.
var admitScript = redis.NewScript(`
local pause = redis.call("PTTL", KEYS[1])
local slow = redis.call("GET", KEYS[2])
local slowms = 0
if slow then
  slowms = redis.call("PTTL", KEYS[2])
else
  slow = "0"
end
if pause > 0 then
  return {0, pause, slow, slowms}
end
local limit = tonumber(ARGV[1])
if limit > 0 then
  local window = tonumber(ARGV[2])
  local t = redis.call("TIME")
  local sec = tonumber(t[1])
  local idx = math.floor(sec / window)
  local key = KEYS[3] .. ":" .. idx
  local used = tonumber(redis.call("GET", key) or "0")
  if used >= limit then
    local left = ((idx + 1) * window - sec) * 1000 - math.floor(tonumber(t[2]) / 1000)
    return {0, math.max(left, 1), slow, slowms}
  end
  redis.call("INCR", key)
  if used == 0 then
    -- The count must outlive its hour a little, for inspection; the next
    -- hour counts under its own key, so this never carries over.
    redis.call("EXPIREAT", key, (idx + 1) * window + 60)
  end
end
return {1, 0, slow, slowms}
`)

// pauseScript extends the shared pause to ARGV[1] ms from now; a shorter
// pause never cuts a longer one. ARGV[2] is the reason, kept as the value
// for whoever inspects Redis. Returns 1 when it extended the pause.
var pauseScript = redis.NewScript(`
local cur = redis.call("PTTL", KEYS[1])
local ms = tonumber(ARGV[1])
if cur >= ms then
  return 0
end
redis.call("SET", KEYS[1], ARGV[2], "PX", ms)
return 1
`)

// slowScript lowers the shared rate to ARGV[1] requests per second for
// ARGV[2] ms (until the server's window resets); a higher rate never
// replaces a lower one. Returns 1 when it lowered the rate.
var slowScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if cur and tonumber(cur) <= tonumber(ARGV[1]) then
  return 0
end
redis.call("SET", KEYS[1], ARGV[1], "PX", tonumber(ARGV[2]))
return 1
`)
