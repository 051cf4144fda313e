-- SableDB's Lua prelude (chunk `=sable`): runs once per Lua state. It gets `hooks` (the Rust side's table:
-- `unwrap`, `resp`) and the `redis` table made in Rust, sets the error handler and Redis 7.0's `pcall`, locks the
-- globals as Redis does, and returns the function that runs a script under the error handler.
local hooks, redis = ...
local getinfo = debug.getinfo
local error, type, tostring, xpcall, pcall = error, type, tostring, xpcall, pcall

-- The innermost frame of user code on the stack: not a C function, not this prelude.
local function user_frame()
  local level = 2
  while true do
    local info = getinfo(level, 'Sl')
    if not info then return nil end
    if info.what ~= 'C' and info.what ~= 'tail' and info.source ~= '=sable' then return info end
    level = level + 1
  end
end

-- Gives an error table the position of the user code that raised it (once).
local function place(err)
  if err.source == nil then
    local info = user_frame()
    if info then
      err.source = info.source
      err.line = info.currentline
    end
  end
  return err
end

-- Every error a script raises becomes a table `{err = 'CODE message', source = ..., line = ...}`; what our Rust
-- functions raise arrives as an error userdata that `hooks.unwrap` turns back into that table (or a message).
hooks.handler = function(err)
  if type(err) == 'userdata' then err = hooks.unwrap(err) end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  return place(err)
end

-- Redis 7.0's pcall: a caught error table is returned as its message.
local function caught(ok, ...)
  if ok then return ok, ... end
  local err = ...
  if type(err) == 'userdata' then err = hooks.unwrap(err) end
  if type(err) == 'table' and type(err.err) == 'string' then err = err.err end
  return false, err
end

local G = _G
G.pcall = function(f, ...) return caught(pcall(f, ...)) end
G.redis = redis
G.debug = nil
G.print = nil
G.dofile = nil
G.loadfile = nil

setmetatable(G, {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function()
    error('Attempt to modify a readonly table', 2)
  end,
})

return function(f)
  return xpcall(f, hooks.handler)
end
