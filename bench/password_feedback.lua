-- The live password-strength hint, asked for the worst case an audit found: 100 symbols zxcvbn tries
-- substitutions for (scored whole, one took seconds of CPU).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
local unit = "4@8({[<3691!|70$5+%2"
local password = string.rep(unit, 5):gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)
wrk.body = "password=" .. password .. "&name=&email="
