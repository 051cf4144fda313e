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

-- Read-only tables, as Redis 7.0 makes the globals and its libraries: writes raise, their metatables cannot be
-- read or replaced, and `rawset` / `setmetatable` refuse them, so no script can change what the next one sees.
local rawset, rawget, setmetatable, setfenv = rawset, rawget, setmetatable, setfenv
local protected = setmetatable({}, {__mode = 'k'})
local function deny() error('Attempt to modify a readonly table', 2) end
local locked_meta = setmetatable({}, {__newindex = deny})
protected[locked_meta] = true
getmetatable(locked_meta).__metatable = locked_meta
local function readonly(t)
  local proxy = setmetatable({}, {__index = t, __newindex = deny, __metatable = locked_meta})
  protected[proxy] = true
  return proxy
end
-- Strings' methods (`('x'):rep(3)`) stay reachable through their metatable, which is locked too.
getmetatable('').__metatable = locked_meta

local G = _G
G.pcall = function(f, ...) return caught(pcall(f, ...)) end
G.rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 2) end
  return rawset(t, k, v)
end
G.setmetatable = function(t, mt)
  if protected[t] then error('Attempt to modify a readonly table', 2) end
  return setmetatable(t, mt)
end
-- No precompiled chunks (Lua 5.1 does not verify bytecode): Redis' loaders, which parse every chunk as text.
G.loadstring = hooks.loadstring
G.load = hooks.load
G.redis = readonly(redis)
for _, name in ipairs({'string', 'table', 'math', 'bit', 'cjson', 'cmsgpack'}) do
  G[name] = readonly(G[name])
end
G.debug = nil
G.print = nil
G.dofile = nil
G.loadfile = nil
G.setfenv = nil
G.getfenv = nil

-- Reading a global that does not exist is an error, at the user code that read it (level 3: past this function
-- and the `__index` that calls it).
local function undefined(name)
  error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 3)
end

-- While a library's code runs (FUNCTION LOAD), its `redis` is this table: `register_function` (set from Rust for
-- the load), `log` and the constants; anything else is an error, as in Redis.
local load_api = {}
for _, name in ipairs({'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE', 'LOG_WARNING', 'REDIS_VERSION',
                       'REDIS_VERSION_NUM'}) do
  load_api[name] = redis[name]
end
local loading_redis = setmetatable({}, {
  __index = function(_, name)
    local v = rawget(load_api, name)
    if v == nil then undefined(name) end
    return v
  end,
  __newindex = deny,
  __metatable = locked_meta,
})
protected[loading_redis] = true
hooks.load_api = load_api

-- Each run gets a fresh, empty environment that reads the globals through a locked metatable: every assignment
-- to a global raises, and reading an undefined one too. A library gets one for its life (`library`), whose
-- `redis` is the load-time table while its code runs.
local function environment(keys, argv, library)
  local env = {}
  local vars = {KEYS = keys, ARGV = argv}
  setmetatable(env, {
    __index = function(_, name)
      if name == '_G' then return env end
      if library and hooks.loading then
        -- While a library's code runs, only its `redis` API exists.
        if name == 'redis' then return loading_redis end
        undefined(name)
      end
      local v = vars[name]
      if v == nil then v = rawget(G, name) end
      if v == nil then undefined(name) end
      return v
    end,
    __newindex = deny,
    __metatable = locked_meta,
  })
  protected[env] = true
  return env
end

hooks.library_env = function() return environment(nil, nil, true) end
hooks.run_library = function(chunk) return xpcall(chunk, hooks.handler) end
hooks.call_function = function(f, keys, args)
  return xpcall(function() return f(keys, args) end, hooks.handler)
end

return function(f, keys, argv)
  setfenv(f, environment(keys, argv))
  return xpcall(f, hooks.handler)
end
