-- Signs in as one of the seeded benchmark users, chosen at random, with the right password.
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local users = tonumber(os.getenv("BENCH_USERS") or "1000")
request = function()
  local body = "email=bench-" .. math.random(0, users - 1) .. "%40example.com&password=correct+horse+battery+staple"
  return wrk.format(nil, nil, nil, body)
end
