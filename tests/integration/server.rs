//! Server and introspection commands: COMMAND, INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN, FUNCTION. Exact replies
//! were taken from redis-server 7.0.15.

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::{free_port, Raw, Server, BIN};

/// The bulk strings of a flat RESP2 array reply of bulk strings (COMMAND LIST, CONFIG GET).
fn bulks(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    lines.iter().zip(lines.iter().skip(1)).filter(|(h, _)| h.starts_with('$')).map(|(_, v)| v.to_string()).collect()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

const GET_INFO: &str = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n\
+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\n\
type\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

const GET_INFO_RESP3: &str = "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n\
+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\n\
type\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

const GET_DOCS: &str = "$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n\
1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n\
$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";

const GET_DOCS_RESP3: &str = "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n\
since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n\
$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n";

const CONFIG_GET_INFO: &str = "*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n\
:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n";

#[test]
fn command_info_and_docs_match_redis() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["COMMAND", "INFO", "get"]), format!("*1\r\n{GET_INFO}"));
    assert_eq!(
        r.cmd(&["COMMAND", "INFO", "GET", "nosuch", "config|get", "CONFIG|GET", "get|x", "config|", "a|b|c"]),
        format!("*7\r\n{GET_INFO}$-1\r\n{CONFIG_GET_INFO}{CONFIG_GET_INFO}$-1\r\n$-1\r\n$-1\r\n")
    );
    assert_eq!(r.cmd(&["COMMAND", "DOCS", "get"]), format!("*2\r\n{GET_DOCS}"));
    assert_eq!(r.cmd(&["COMMAND", "DOCS", "nosuch", "get", "other"]), format!("*2\r\n{GET_DOCS}"));
    assert_eq!(r.cmd(&["COMMAND", "DOCS", "nosuch"]), "*0\r\n");
    assert_eq!(
        r.cmd(&["COMMAND", "DOCS", "mset"]),
        "*2\r\n$4\r\nmset\r\n*10\r\n$7\r\nsummary\r\n$36\r\nSet multiple keys to multiple values\r\n$5\r\nsince\r\n\
         $5\r\n1.0.1\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$42\r\nO(N) where N is the number of keys to \
         set.\r\n$9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$9\r\nkey_value\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n\
         *1\r\n+multiple\r\n$9\r\narguments\r\n*2\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\n\
         key_spec_index\r\n:0\r\n*4\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\nstring\r\n"
    );
    r.cmd(&["HELLO", "3"]);
    // The test decoder cannot hold a set of maps (the key specifications), so these bytes are compared as read.
    r.send(&Raw::encode(&[b"COMMAND", b"INFO", b"get"]));
    let expected = format!("*1\r\n{GET_INFO_RESP3}");
    let mut got = vec![0u8; expected.len()];
    r.stream.read_exact(&mut got).expect("COMMAND INFO reply");
    assert_eq!(String::from_utf8_lossy(&got), expected);
    assert_eq!(r.cmd(&["COMMAND", "DOCS", "get"]), GET_DOCS_RESP3);
    assert_eq!(r.cmd(&["COMMAND", "INFO", "nosuch"]), "*1\r\n_\r\n");
}

#[test]
fn containers_advertise_only_implemented_subcommands() {
    let s = Server::start();
    let mut r = s.raw();
    // FUNCTION: Redis' nine subcommands, all implemented.
    let info = r.cmd(&["COMMAND", "INFO", "function"]);
    assert!(info.starts_with("*1\r\n*10\r\n$8\r\nfunction\r\n:-2\r\n"), "{info}");
    let mut subs: Vec<String> = bulks(&info).into_iter().filter(|b| b.starts_with("function|")).collect();
    subs.sort();
    let all = ["delete", "dump", "flush", "help", "kill", "list", "load", "restore", "stats"];
    assert_eq!(subs, all.map(|w| format!("function|{w}")));
    let docs = r.cmd(&["COMMAND", "DOCS", "function"]);
    assert!(docs.contains("$11\r\nsubcommands\r\n*18\r\n"), "{docs}");
    // What COMMAND DOCS advertises is what runs.
    for sub in subs {
        let word = sub.split('|').nth(1).unwrap_or_default().to_string();
        let reply = r.cmd(&["FUNCTION", &word, "x", "y", "z"]);
        assert!(!reply.contains("unknown subcommand '"), "{sub}: {reply}");
    }
    assert_eq!(r.cmd(&["FUNCTION", "NOSUCH", "x"]), "-ERR unknown subcommand 'NOSUCH'. Try FUNCTION HELP.\r\n");
}

#[test]
fn command_count_list_and_plain_command_agree() {
    let s = Server::start();
    let mut r = s.raw();
    let count: usize = r.cmd(&["COMMAND", "COUNT"]).trim_start_matches(':').trim_end().parse().expect("integer");
    let list = bulks(&r.cmd(&["COMMAND", "LIST"]));
    let top: Vec<&String> = list.iter().filter(|n| !n.contains('|')).collect();
    assert_eq!(top.len(), count);
    assert!(count >= 20, "{count}");
    for must in ["get", "set", "ping", "info", "config", "config|get", "command", "command|docs", "shutdown", "time"] {
        assert!(list.iter().any(|n| n == must), "{must} missing from COMMAND LIST");
    }
    assert!(list.iter().any(|n| n == "function|load"));
    assert!(list.iter().any(|n| n == "command|getkeysandflags"));
    // Plain COMMAND and COMMAND INFO without names list one entry per top-level command.
    assert!(r.cmd(&["COMMAND"]).starts_with(&format!("*{count}\r\n*10\r\n")));
    assert!(r.cmd(&["COMMAND", "INFO"]).starts_with(&format!("*{count}\r\n*10\r\n")));
    let docs = r.cmd(&["COMMAND", "DOCS"]);
    assert!(docs.starts_with(&format!("*{}\r\n", 2 * count)), "{}", &docs[..20]);
    // Every listed command is really there.
    for name in &list {
        assert_ne!(r.cmd(&["COMMAND", "INFO", name]), "*1\r\n$-1\r\n", "{name}");
    }
    let mut config = bulks(&r.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "CONFIG*"]));
    config.sort();
    assert_eq!(config, ["config", "config|get", "config|help", "config|resetstat", "config|rewrite", "config|set"]);
    let conn = bulks(&r.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "CONNECTION"]));
    assert!(conn.iter().any(|n| n == "ping") && conn.iter().any(|n| n == "command|info"));
    assert!(!conn.iter().any(|n| n == "get"));
    assert_eq!(r.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]), "*0\r\n");
    assert_eq!(r.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]), "*0\r\n");
    assert_eq!(r.cmd(&["COMMAND", "LIST", "FILTERBY", "foo", "x"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["COMMAND", "LIST", "FILTERBY", "aclcat"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["COMMAND", "LIST", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["COMMAND", "COUNT", "x"]), "-ERR wrong number of arguments for 'command|count' command\r\n");
    assert_eq!(r.cmd(&["COMMAND", "nosuch"]), "-ERR unknown subcommand 'nosuch'. Try COMMAND HELP.\r\n");
    let help = r.cmd(&["COMMAND", "HELP"]);
    assert!(help.starts_with("*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), "{help}");
}

#[test]
fn command_getkeys_uses_key_specs() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "get", "k"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "SET", "k", "v"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    // SORT's STORE destination, as Redis' sortGetKeys finds it: the last STORE, LIMIT/GET/BY arguments skipped.
    let sort = |r: &mut Raw, args: &[&str]| {
        crate::common::bulks(&r.cmd(&[&["COMMAND", "GETKEYS", "SORT"][..], args].concat()))
    };
    assert_eq!(sort(&mut r, &["abc", "store", "def"]), ["abc", "def"]);
    assert_eq!(sort(&mut r, &["abc", "store", "invalid", "store", "stillbad", "store", "def"]), ["abc", "def"]);
    assert_eq!(sort(&mut r, &["abc", "get", "store", "limit", "0", "1", "by", "store"]), ["abc"]);
    assert_eq!(sort(&mut r, &["abc", "store"]), ["abc"]);
    assert_eq!(crate::common::bulks(&r.cmd(&["COMMAND", "GETKEYS", "SORT_RO", "abc"])), ["abc"]);
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "mset", "a", "1", "b"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "copy", "a", "b", "db", "1"]), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "object", "encoding", "k"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "getex", "k", "persist"]), "*1\r\n$1\r\nk\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "nosuch", "x"]), "-ERR Invalid command specified\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "config|get", "x"]), "-ERR Invalid command specified\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "object", "nosuch", "k"]), "-ERR Invalid command specified\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "ping", "x"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "config", "get", "x"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(r.cmd(&["COMMAND", "GETKEYS", "command", "info"]), "-ERR The command has no key arguments\r\n");
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "get", "a", "b"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "object", "encoding"]),
        "-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "get"]),
        "-ERR wrong number of arguments for 'command|getkeys' command\r\n"
    );
}

#[test]
fn info_sections_and_fields() {
    let s = Server::start();
    let mut r = s.raw();
    let headers = |text: &str| -> Vec<String> {
        text.split("\r\n").filter(|l| l.starts_with("# ")).map(|l| l[2..].to_string()).collect()
    };
    let default = r.cmd(&["INFO"]);
    assert_eq!(
        headers(&default),
        [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace"
        ]
    );
    assert!(default.contains("\r\nredis_version:7.0.15\r\n"), "{default}");
    assert_eq!(headers(&r.cmd(&["INFO", "default"])), headers(&default));
    let all = r.cmd(&["INFO", "all"]);
    assert_eq!(headers(&all).len(), headers(&default).len() + 2);
    assert!(headers(&all).contains(&"Commandstats".to_string()));
    assert!(headers(&all).contains(&"Latencystats".to_string()));
    assert_eq!(headers(&r.cmd(&["INFO", "everything"])), headers(&all));
    // Sections come out in Redis' order whatever the order asked, and unknown names select nothing.
    assert_eq!(headers(&r.cmd(&["INFO", "KEYSPACE", "server", "nosuch"])), ["Server", "Keyspace"]);
    assert_eq!(r.cmd(&["INFO", "nosuch"]), "$0\r\n\r\n");
    assert_eq!(r.cmd(&["INFO", "cluster"]), "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n");
    assert_eq!(r.cmd(&["INFO", "keyspace", "modules"]), "$25\r\n# Modules\r\n\r\n# Keyspace\r\n\r\n");
    r.cmd(&["SET", "a", "1"]);
    r.cmd(&["SET", "b", "1", "EX", "100"]);
    r.cmd(&["SELECT", "3"]);
    r.cmd(&["SET", "c", "1"]);
    assert_eq!(
        r.cmd(&["INFO", "keyspace"]),
        "$76\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n\r\n"
    );
    r.cmd(&["GET", "nosuch"]);
    r.cmd(&["NOSUCHCOMMAND"]);
    r.cmd(&["GET"]);
    let stats = r.cmd(&["INFO", "commandstats", "errorstats"]);
    let get = stats.split("\r\n").find(|l| l.starts_with("cmdstat_get:")).unwrap_or_default();
    assert!(get.starts_with("cmdstat_get:calls=1,usec=") && get.ends_with(",rejected_calls=1,failed_calls=0"), "{get}");
    assert!(stats.contains("\r\ncmdstat_set:calls=3,"), "{stats}");
    assert!(stats.contains("\r\nerrorstat_ERR:count=2\r\n"), "{stats}");
    // Every field of Redis 7.0.15's memory section, in its order (SableDB's RocksDB figures follow).
    let memory = r.cmd(&["INFO", "memory"]);
    let names: Vec<&str> = memory.split("\r\n").filter_map(|l| l.split_once(':').map(|(n, _)| n)).collect();
    let redis = "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak \
                 used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup \
                 used_memory_dataset used_memory_dataset_perc allocator_allocated allocator_active allocator_resident \
                 total_system_memory total_system_memory_human used_memory_lua used_memory_vm_eval \
                 used_memory_lua_human used_memory_scripts_eval number_of_cached_scripts number_of_functions \
                 number_of_libraries used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human \
                 used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory maxmemory_human \
                 maxmemory_policy allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio allocator_rss_bytes \
                 rss_overhead_ratio rss_overhead_bytes mem_fragmentation_ratio mem_fragmentation_bytes \
                 mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers mem_clients_slaves \
                 mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator active_defrag_running \
                 lazyfree_pending_objects lazyfreed_objects";
    let redis: Vec<&str> = redis.split_whitespace().collect();
    assert_eq!(names[..redis.len()], redis[..], "{memory}");
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["INFO", "cluster"]), "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");

    // The `redis` crate parses it; the values are real.
    let mut conn = s.conn();
    let info: redis::InfoDict = redis::cmd("INFO").arg("everything").query(&mut conn).expect("INFO");
    assert_eq!(info.get::<String>("redis_version").as_deref(), Some("7.0.15"));
    assert_eq!(info.get::<String>("redis_mode").as_deref(), Some("standalone"));
    assert_eq!(info.get::<String>("role").as_deref(), Some("master"));
    assert_eq!(info.get::<u16>("tcp_port"), Some(s.port));
    assert!(info.get::<u32>("process_id").is_some_and(|p| p > 1));
    assert!(info.get::<u64>("connected_clients").unwrap_or(0) >= 2);
    assert_eq!(info.get::<u64>("blocked_clients"), Some(0));
    assert_eq!(info.get::<u64>("maxclients"), Some(10000));
    let rss = info.get::<u64>("used_memory_rss").unwrap_or(0);
    assert!(rss > 1 << 20, "rss {rss}");
    assert_eq!(info.get::<u64>("used_memory"), Some(rss));
    assert!(info.get::<u64>("used_memory_peak").unwrap_or(0) >= rss);
    assert!(info.get::<String>("used_memory_human").is_some_and(|h| h.ends_with('M') || h.ends_with('G')));
    assert_eq!(info.get::<u64>("maxmemory"), Some(0));
    assert_eq!(info.get::<String>("maxmemory_policy").as_deref(), Some("noeviction"));
    assert!(info.get::<u64>("rocksdb_block_cache_capacity").unwrap_or(0) > 0);
    assert_eq!(info.get::<u8>("loading"), Some(0));
    assert_eq!(info.get::<u8>("aof_enabled"), Some(0));
    assert!(info.get::<u64>("rdb_last_save_time").unwrap_or(0) > now_secs() - 3600);
    assert!(info.get::<u64>("total_commands_processed").unwrap_or(0) >= 10);
    assert!(info.get::<u64>("total_connections_received").unwrap_or(0) >= 2);
    assert_eq!(info.get::<u64>("keyspace_misses"), Some(1));
    assert!(info.get::<f64>("used_cpu_user").is_some() && info.get::<f64>("used_cpu_sys_main_thread").is_some());
    assert!(info.get::<String>("db0").is_some_and(|d| d == "keys=2,expires=1,avg_ttl=0"));
}

#[test]
fn config_get_patterns_and_dedupe() {
    let s = Server::start();
    let mut r = s.raw();
    // redis-benchmark asks for these two.
    assert_eq!(r.cmd(&["CONFIG", "GET", "save"]), "*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "appendonly"]), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    // An exact name is answered as given, once.
    assert_eq!(r.cmd(&["CONFIG", "GET", "MAXMEMORY"]), "*2\r\n$9\r\nMAXMEMORY\r\n$1\r\n0\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "GET", "maxmemory", "MAXMEMORY", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    );
    assert_eq!(r.cmd(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    let mut max: Vec<String> =
        bulks(&r.cmd(&["CONFIG", "GET", "maxmemory", "MAXMEM*"])).into_iter().step_by(2).collect();
    max.sort();
    assert_eq!(
        max,
        ["maxmemory", "maxmemory-clients", "maxmemory-eviction-tenacity", "maxmemory-policy", "maxmemory-samples"]
    );
    // SableDB's own options are there too, `_` and `-` alike.
    assert!(r.cmd(&["CONFIG", "GET", "db-path"]).ends_with(&format!("{}\r\n", s.db_path())));
    assert_eq!(r.cmd(&["CONFIG", "GET", "workers"]), "*2\r\n$7\r\nworkers\r\n$1\r\n2\r\n");
    let everything = bulks(&r.cmd(&["CONFIG", "GET", "*"]));
    assert!(everything.len() > 380, "{}", everything.len());
    // Redis' hidden parameters answer only to their exact name.
    assert!(!everything.iter().any(|k| k == "key-load-delay"));
    assert_eq!(r.cmd(&["CONFIG", "GET", "key-load-delay"]), "*2\r\n$14\r\nkey-load-delay\r\n$1\r\n0\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "key-load-*"]), "*0\r\n");
    r.cmd(&["HELLO", "3"]);
    assert_eq!(r.cmd(&["CONFIG", "GET", "appendonly"]), "%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "nosuch"]), "%0\r\n");
}

#[test]
fn config_set_is_all_or_nothing() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", "10mb", "hz", "20"]), "+OK\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "hz"]), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
    let failed =
        |arg: &str, why: &str| format!("-ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "hz", "30", "MAXMEMORY", "foo"]),
        failed("maxmemory", "argument must be a memory value")
    );
    assert_eq!(r.cmd(&["CONFIG", "GET", "hz"]), "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "appendonly", "maybe"]),
        failed("appendonly", "argument must be 'yes' or 'no'")
    );
    assert_eq!(r.cmd(&["CONFIG", "SET", "hz", "x"]), failed("hz", "argument couldn't be parsed into an integer"));
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "maxmemory-policy", "foo"]),
        failed(
            "maxmemory-policy",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, \
             allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        )
    );
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "timeout", "-1"]),
        failed("timeout", "argument must be between 0 and 2147483647 inclusive")
    );
    assert_eq!(r.cmd(&["CONFIG", "SET", "daemonize", "yes"]), failed("daemonize", "can't set immutable config"));
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2"]),
        failed("MAXMEMORY", "duplicate parameter")
    );
    let unknown = "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n";
    assert_eq!(r.cmd(&["CONFIG", "SET", "nope", "1", "maxmemory", "1"]), unknown);
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", "1", "nope", "1"]), unknown);
    assert_eq!(r.cmd(&["CONFIG", "SET", "a", "b", "c"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["CONFIG", "SET", "a"]), "-ERR wrong number of arguments for 'config|set' command\r\n");
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n");
    // A SableDB option that only applies at start-up; writing back its current value is accepted, as is
    // writing back everything CONFIG GET * returned (what Redis' own CONFIG sanity test does).
    // (port, tls-port and bind change at run time, as in Redis: tests/integration/listeners.rs.)
    assert_eq!(r.cmd(&["CONFIG", "SET", "workers", "1000"]), failed("workers", "can't set immutable config"));
    let workers = crate::common::bulks(&r.cmd(&["CONFIG", "GET", "workers"]))[1].clone();
    assert_eq!(r.cmd(&["CONFIG", "SET", "port", &s.port.to_string(), "workers", &workers]), "+OK\r\n");
    assert_eq!(r.cmd(&["CONFIG", "SET", "databases", "16"]), failed("databases", "can't set immutable config"));
    let all = crate::common::bulks(&r.cmd(&["CONFIG", "GET", "*"]));
    // The parameters Redis' test skips because Redis itself refuses to set them at run time.
    let redis_immutable = "daemonize io-threads-do-reads tcp-backlog always-show-logo syslog-enabled cluster-enabled \
        disable-thp aclfile unixsocket pidfile syslog-ident appendfilename appenddirname supervised syslog-facility \
        databases io-threads logfile unixsocketperm set-proc-title cluster-config-file enable-protected-configs \
        enable-debug-command enable-module-command unixsocketgroup";
    for pair in all.chunks(2) {
        if !redis_immutable.split_whitespace().any(|n| n == pair[0]) {
            assert_eq!(r.cmd(&["CONFIG", "SET", &pair[0], &pair[1]]), "+OK\r\n", "{pair:?}");
        }
    }
    assert_eq!(crate::common::bulks(&r.cmd(&["CONFIG", "GET", "*"])), all);
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "maxmemory-clients", "200%"]),
        failed("maxmemory-clients", "percentage argument must be less or equal to 100")
    );
    // The change takes effect: a password set at run time is required by new connections.
    assert_eq!(r.cmd(&["CONFIG", "SET", "requirepass", "secret"]), "+OK\r\n");
    let mut other = s.raw();
    assert_eq!(other.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(other.cmd(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(other.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(s.raw().cmd(&["GET", "k"]), "$-1\r\n");
}

#[test]
fn config_resetstat_rewrite_and_help() {
    let s = Server::start();
    let mut r = s.raw();
    r.cmd(&["SET", "k", "v"]);
    r.cmd(&["GET"]);
    assert!(r.cmd(&["INFO", "commandstats"]).contains("cmdstat_set:calls=1"));
    assert_eq!(r.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let after = r.cmd(&["INFO", "commandstats", "errorstats"]);
    assert_eq!(headers_and_lines(&after), ["# Commandstats", "cmdstat_config|resetstat:calls=1", "# Errorstats"]);
    let stats = r.cmd(&["INFO", "stats"]);
    assert!(stats.contains("\r\ntotal_error_replies:0\r\n") && stats.contains("\r\nkeyspace_hits:0\r\n"), "{stats}");
    assert_eq!(r.cmd(&["CONFIG", "REWRITE"]), "-ERR The server is running without a config file\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "HELP"]),
        "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n\
         +    Return parameters matching the glob-like <pattern> and their values.\r\n+SET <directive> <value>\r\n\
         +    Set the configuration <directive> to <value>.\r\n+RESETSTAT\r\n\
         +    Reset statistics reported by the INFO command.\r\n+REWRITE\r\n+    Rewrite the configuration file.\r\n\
         +HELP\r\n+    Prints this help.\r\n"
    );
}

/// Section headers and the part of each field line before its first `,` (values that vary are cut off).
fn headers_and_lines(info: &str) -> Vec<String> {
    info.split("\r\n").skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').next().unwrap_or(l).to_string()).collect()
}

/// A sabledb started from an ini file (the harness only passes options), killed on drop.
struct FromFile(Child);

impl Drop for FromFile {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn config_rewrite_updates_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ini = dir.path().join("sabledb.ini");
    let port = free_port();
    let db = dir.path().join("db");
    std::fs::write(&ini, format!("# my settings\nport = {port}\ndb_path = {}\nmaxmemory = 1mb\n", db.display()))
        .expect("write ini");
    let child = Command::new(BIN)
        .arg(&ini)
        .args(["--workers", "1", "--log_level", "warn"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start sabledb");
    let _guard = FromFile(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sabledb did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut r = Raw::connect(port);
    assert_eq!(r.cmd(&["CONFIG", "GET", "maxmemory"]), "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n");
    let info = r.cmd(&["INFO", "server"]);
    let canonical = std::fs::canonicalize(&ini).expect("ini path");
    assert!(info.contains(&format!("\r\nconfig_file:{}\r\n", canonical.display())), "{info}");
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory", "2mb", "hz", "15"]), "+OK\r\n");
    assert_eq!(r.cmd(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&ini).expect("read ini");
    assert!(text.starts_with("# my settings\n"), "{text}");
    assert!(text.contains("maxmemory = 2097152\n") && text.contains("hz = 15\n"), "{text}");
}

#[test]
fn time_and_lastsave() {
    let s = Server::start();
    let mut r = s.raw();
    let reply = r.cmd(&["TIME"]);
    let parts = bulks(&reply);
    assert!(reply.starts_with("*2\r\n$10\r\n"), "{reply}");
    let secs: u64 = parts[0].parse().expect("seconds");
    let usec: u64 = parts[1].parse().expect("microseconds");
    assert!(secs.abs_diff(now_secs()) <= 2 && usec < 1_000_000, "{reply}");
    let last = r.cmd(&["LASTSAVE"]);
    let last: u64 = last.trim_start_matches(':').trim_end().parse().expect("integer");
    assert!(last <= now_secs() && last + 60 > now_secs(), "{last}");
    assert_eq!(r.cmd(&["TIME", "x"]), "-ERR wrong number of arguments for 'time' command\r\n");
}

#[test]
fn shutdown_syncs_and_exits() {
    let mut s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["SHUTDOWN", "ABORT"]), "-ERR No shutdown in progress.\r\n");
    assert_eq!(r.cmd(&["SHUTDOWN", "NOSAVE", "SAVE"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["SHUTDOWN", "ABORT", "NOW"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["SHUTDOWN", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(r.cmd(&["SET", "kept", "yes"]), "+OK\r\n");
    r.send(b"*3\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n$3\r\nNOW\r\n");
    assert!(r.is_closed());
    assert_eq!(s.wait_exit(), Some(0));
    s.restart();
    assert_eq!(s.raw().cmd(&["GET", "kept"]), "$3\r\nyes\r\n");
}

#[test]
fn function_without_libraries() {
    let s = Server::start();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["FUNCTION", "LIST"]), "*0\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x*"]), "*0\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "LIST", "LIBRARYNAME"]), "-ERR library name argument was not given\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "LIST", "withcode", "withcode"]), "-ERR Unknown argument withcode\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "FLUSH"]), "+OK\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "FLUSH", "async"]), "+OK\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "FLUSH", "SYNC"]), "+OK\r\n");
    assert_eq!(r.cmd(&["FUNCTION", "FLUSH", "foo"]), "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n");
    assert_eq!(
        r.cmd(&["FUNCTION", "Flush", "sync", "sync"]),
        "-ERR unknown subcommand or wrong number of arguments for 'Flush'. Try FUNCTION HELP.\r\n"
    );
    let stats =
        "$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:0\r\n\
                 $15\r\nfunctions_count\r\n:0\r\n";
    assert_eq!(r.cmd(&["FUNCTION", "STATS"]), format!("*4\r\n{stats}"));
    let help = r.cmd(&["FUNCTION", "HELP"]);
    assert!(
        help.starts_with("*40\r\n+FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"),
        "{help}"
    );
    assert!(
        help.contains("+LOAD [REPLACE] <FUNCTION CODE>\r\n") && help.ends_with("+HELP\r\n+    Prints this help.\r\n")
    );
    r.cmd(&["HELLO", "3"]);
    assert_eq!(
        r.cmd(&["FUNCTION", "STATS"]),
        "%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:0\r\n\
         $15\r\nfunctions_count\r\n:0\r\n"
    );
}

#[test]
fn redis_cli_and_benchmark_work() {
    let s = Server::start();
    assert_eq!(s.cli(&["COMMAND", "COUNT"]).trim(), s.raw().cmd(&["COMMAND", "COUNT"]).trim().trim_start_matches(':'));
    assert_eq!(s.cli(&["CONFIG", "GET", "save"]), "save\n3600 1 300 100 60 10000\n");
    assert!(s.cli(&["INFO", "server"]).contains("redis_version:7.0.15"));
    let docs = s.cli(&["COMMAND", "DOCS", "set"]);
    assert!(docs.contains("Set the string value of a key"), "{docs}");
    // Interactive redis-cli loads the whole COMMAND DOCS reply for its hints; it must decode it.
    let out = Command::new("redis-cli")
        .args(["-p", &s.port.to_string(), "-3", "COMMAND", "DOCS"])
        .output()
        .expect("redis-cli");
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("config|get"));
    let bench = Command::new("redis-benchmark")
        .args(["-p", &s.port.to_string(), "-t", "set,get", "-n", "200", "-c", "2", "-q"])
        .output()
        .expect("redis-benchmark");
    let text = String::from_utf8_lossy(&bench.stdout);
    assert!(bench.status.success() && text.contains("SET:") && text.contains("GET:"), "{text}");
}

/// INFO's rdb_changes_since_last_save counts the keys commands change, as Redis' dirty counter: a value
/// rewritten unchanged is no change (SETBIT, BITFIELD), a FLUSHALL with save points set starts it again.
#[test]
fn changes_since_last_save_count_modified_keys() {
    let s = Server::start();
    let mut r = s.raw();
    let changes = |r: &mut Raw| {
        let info = r.cmd(&["INFO", "persistence"]);
        let line = info.lines().find_map(|l| l.strip_prefix("rdb_changes_since_last_save:")).unwrap_or_default();
        line.trim().parse::<i64>().unwrap_or(-1)
    };
    let start = changes(&mut r);
    assert_eq!(start, 0);
    assert_eq!(r.cmd(&["SETBIT", "foo", "0", "0"]), ":0\r\n");
    assert_eq!(r.cmd(&["BITFIELD", "foo2", "SET", "i5", "0", "0"]), "*1\r\n:0\r\n");
    assert_eq!(changes(&mut r), 2);
    assert_eq!(r.cmd(&["SETBIT", "foo", "0", "0"]), ":0\r\n");
    assert_eq!(r.cmd(&["BITFIELD", "foo2", "SET", "i5", "0", "0"]), "*1\r\n:0\r\n");
    assert_eq!(changes(&mut r), 2);
    assert_eq!(r.cmd(&["SETBIT", "foo", "0", "1"]), ":0\r\n");
    assert_eq!(r.cmd(&["BITFIELD", "foo3", "INCRBY", "i5", "0", "1"]), "*1\r\n:1\r\n");
    assert_eq!(r.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]), "+OK\r\n");
    assert_eq!(r.cmd(&["DEL", "a", "b", "nokey"]), ":2\r\n");
    assert_eq!(r.cmd(&["GET", "c"]), "$1\r\n3\r\n");
    assert_eq!(changes(&mut r), 2 + 2 + 3 + 2);
    // FLUSHALL counts the keys it removes; with save points set (the default) it starts the count again.
    assert_eq!(r.cmd(&["CONFIG", "SET", "save", ""]), "+OK\r\n");
    assert_eq!(r.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(changes(&mut r), 9 + 4);
    assert_eq!(r.cmd(&["CONFIG", "SET", "save", "3600 1"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(r.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(changes(&mut r), 0);
}

/// Commands are counted as Redis counts its calls: refused ones not at all, a blocking command once (not again
/// when it runs after a wake-up), a transaction's commands one by one.
#[test]
fn command_calls_are_counted_as_redis_counts_them() {
    let s = Server::start();
    let mut r = s.raw();
    let stat = |r: &mut Raw, section: &str, field: &str| -> String {
        let info = r.cmd(&["INFO", section]);
        info.lines().find_map(|l| l.strip_prefix(field)).unwrap_or_default().trim().to_string()
    };
    assert_eq!(r.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let mut waiter = s.raw();
    waiter.send(&Raw::encode(&[b"BLPOP", b"bl", b"5"]));
    // Wait until the waiter is blocked, then serve it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while stat(&mut r, "clients", "blocked_clients:") != "1" {
        assert!(Instant::now() < deadline, "the BLPOP never blocked");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(r.cmd(&["RPUSH", "bl", "a"]), ":1\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$2\r\nbl\r\n$1\r\na\r\n");
    assert_eq!(r.cmd(&["BLPOP", "nol", "0.01"]), "*-1\r\n");
    assert!(r.cmd(&["NOSUCH"]).starts_with("-ERR unknown command"));
    assert_eq!(r.cmd(&["GET"]), "-ERR wrong number of arguments for 'get' command\r\n");
    assert_eq!(r.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(r.cmd(&["INCR", "k"]), "+QUEUED\r\n");
    assert_eq!(r.cmd(&["EXEC"]), "*1\r\n:1\r\n");
    let blpop = stat(&mut r, "commandstats", "cmdstat_blpop:");
    assert!(blpop.starts_with("calls=2,"), "{blpop}");
    let get = stat(&mut r, "commandstats", "cmdstat_get:");
    assert!(get.starts_with("calls=0,") && get.contains("rejected_calls=1"), "{get}");
    // total_commands_processed from a fresh reset: CONFIG RESETSTAT itself (counted after it ran) and the BLPOP;
    // the unknown command is not a call, and INFO counts itself only after it answered.
    assert_eq!(r.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert_eq!(r.cmd(&["BLPOP", "nol", "0.01"]), "*-1\r\n");
    assert!(r.cmd(&["NOSUCH"]).starts_with("-ERR unknown command"));
    assert_eq!(stat(&mut r, "stats", "total_commands_processed:"), "2");
}

#[test]
fn role_lolwut_and_module_match_redis() {
    let s = Server::start();
    let mut r = s.raw();
    crate::common::check(
        &mut r,
        &[
            (&["ROLE"], "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"),
            (&["LOLWUT"], "$18\r\nRedis ver. 7.0.15\n\r\n"),
            (&["LOLWUT", "VERSION", "99"], "$18\r\nRedis ver. 7.0.15\n\r\n"),
            (&["LOLWUT", "VERSION", "x"], "-ERR value is not an integer or out of range\r\n"),
            (&["LOLWUT", "VERSION", "5", "x"], "-ERR value is not an integer or out of range\r\n"),
            // One column: a single braille cell, as redis-server 7.0.15 draws it.
            (
                &["LOLWUT", "VERSION", "5", "1"],
                "$70\r\n\u{283f}\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n\r\n",
            ),
            (&["MODULE", "LIST"], "*0\r\n"),
            // Refused by default (enable-module-command no), as redis-server 7.0 refuses them.
            (&["MODULE", "LOAD", "/no/such.so"], &format!("-ERR {}\r\n", not_allowed("MODULE", "module"))),
            (&["MODULE", "UNLOAD", "x"], &format!("-ERR {}\r\n", not_allowed("MODULE", "module"))),
            (&["MODULE"], "-ERR wrong number of arguments for 'module' command\r\n"),
        ],
    );
    let help = r.cmd(&["MODULE", "HELP"]);
    assert!(help.starts_with("*11\r\n+MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+LIST\r\n"));
    let art = r.cmd(&["LOLWUT", "VERSION", "6"]);
    assert!(art.ends_with("Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n\r\n"), "{art}");
    assert!(r.cmd(&["HELLO", "3"]).starts_with('%'));
    assert_eq!(r.cmd(&["LOLWUT"]), "=22\r\ntxt:Redis ver. 7.0.15\n\r\n");
    assert_eq!(r.cmd(&["ROLE"]), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
}

/// CLUSTER, READONLY, READWRITE and ASKING answer as a redis-server with cluster support disabled: the arity and
/// subcommand checks first, then the one error cluster-aware clients fall back on.
#[test]
fn cluster_commands_answer_as_a_server_without_cluster_support() {
    let s = Server::start();
    let disabled = "-ERR This instance has cluster support disabled\r\n";
    crate::common::check(
        &mut s.raw(),
        &[
            (&["CLUSTER", "INFO"], disabled),
            (&["cluster", "slots"], disabled),
            (&["CLUSTER", "NODES"], disabled),
            (&["CLUSTER", "SHARDS"], disabled),
            (&["CLUSTER", "HELP"], disabled),
            (&["CLUSTER", "KEYSLOT", "foo"], disabled),
            (&["CLUSTER", "GETKEYSINSLOT", "1", "2"], disabled),
            (&["READONLY"], disabled),
            (&["READWRITE"], disabled),
            (&["ASKING"], disabled),
            (&["CLUSTER"], "-ERR wrong number of arguments for 'cluster' command\r\n"),
            (&["CLUSTER", "foo"], "-ERR unknown subcommand 'foo'. Try CLUSTER HELP.\r\n"),
            (&["CLUSTER", "INFO", "x"], "-ERR wrong number of arguments for 'cluster|info' command\r\n"),
            (&["READONLY", "x"], "-ERR wrong number of arguments for 'readonly' command\r\n"),
        ],
    );
}

/// Redis 7's refusal of a protected command (`DEBUG`, `MODULE LOAD`…) whose option (`enable-debug-command`,
/// `enable-module-command`) does not allow the client.
fn not_allowed(name: &str, option: &str) -> String {
    format!(
        "{name} command not allowed. If the enable-{option}-command option is set to \"local\", you can run it from a \
         local connection, otherwise you need to set this option in the configuration file, and then restart the \
         server."
    )
}

/// MODULE LOAD, LOADEX and UNLOAD once enable-module-command allows them (`local`: this test's loopback client).
#[test]
fn module_load_when_allowed() {
    let s = Server::start_with(&["--enable-module-command", "local"]);
    crate::common::check(
        &mut s.raw(),
        &[
            (&["MODULE", "LOAD", "/no/such.so"], "-ERR Error loading the extension. Please check the server logs.\r\n"),
            (
                &["MODULE", "LOADEX", "/no/such.so"],
                "-ERR Error loading the extension. Please check the server logs.\r\n",
            ),
            (&["MODULE", "UNLOAD", "x"], "-ERR Error unloading module: no such module with that name\r\n"),
        ],
    );
}

/// DEBUG: refused by default (before authentication, as in Redis); once allowed, the subcommands SableDB has
/// answer byte for byte as redis-server 7.0.15's, in both protocols.
#[test]
fn debug_is_protected_and_answers_as_redis() {
    let s = Server::start_with(&["--requirepass", "pw"]);
    let mut r = s.raw();
    assert_eq!(r.cmd(&["DEBUG", "SLEEP", "0"]), format!("-ERR {}\r\n", not_allowed("DEBUG", "debug")));
    assert_eq!(r.cmd(&["DEBUG"]), "-ERR wrong number of arguments for 'debug' command\r\n");
    assert!(r.cmd(&["GET", "k"]).starts_with("-NOAUTH"));

    let s = Server::start_with(&["--enable-debug-command", "yes"]);
    let mut r = s.raw();
    crate::common::check(
        &mut r,
        &[
            (&["DEBUG", "ERROR", "LOADING fake message"], "-LOADING fake message\r\n"),
            (&["DEBUG", "ERROR", "ERR a\nb"], "-ERR a b\r\n"),
            (&["DEBUG", "sleep", "0.01"], "+OK\r\n"),
            (&["DEBUG", "SLEEP", "abc"], "+OK\r\n"),
            (&["DEBUG", "LOG", "hello"], "+OK\r\n"),
            (&["DEBUG", "reload"], "+OK\r\n"),
            (&["DEBUG", "reload", "foo"], "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"),
            (
                &["DEBUG", "segfault"],
                "-ERR unknown subcommand or wrong number of arguments for 'segfault'. Try DEBUG HELP.\r\n",
            ),
            (
                &["DEBUG", "sleep", "1", "2"],
                "-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP.\r\n",
            ),
            (&["DEBUG", "PROTOCOL", "bignum"], "$37\r\n1234567999999999999999999999999999999\r\n"),
            (&["DEBUG", "PROTOCOL", "map"], "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"),
            (&["DEBUG", "PROTOCOL", "attrib"], "$39\r\nSome real reply following the attribute\r\n"),
            (&["DEBUG", "PROTOCOL", "push"], "-ERR RESP2 is not supported by this command\r\n"),
            (
                &["DEBUG", "PROTOCOL", "x"],
                "-ERR Wrong protocol type name. Please use one of the following: \
                 string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n",
            ),
        ],
    );
    assert!(r.cmd(&["HELLO", "3"]).starts_with('%'));
    crate::common::check(
        &mut r,
        &[
            (&["DEBUG", "PROTOCOL", "bignum"], "(1234567999999999999999999999999999999\r\n"),
            (&["DEBUG", "PROTOCOL", "double"], ",3.141\r\n"),
            (&["DEBUG", "PROTOCOL", "map"], "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
            (&["DEBUG", "PROTOCOL", "set"], "~3\r\n:0\r\n:1\r\n:2\r\n"),
            (&["DEBUG", "PROTOCOL", "verbatim"], "=29\r\ntxt:This is a verbatim\nstring\r\n"),
            (&["DEBUG", "PROTOCOL", "null"], "_\r\n"),
        ],
    );
    assert_eq!(
        r.cmd(&["DEBUG", "PROTOCOL", "attrib"]),
        "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"
    );
    r.send(&crate::common::Raw::encode(&[b"DEBUG", b"PROTOCOL", b"push"]));
    assert_eq!(r.read_reply(), ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n");
    assert_eq!(r.read_reply(), "$40\r\nSome real reply following the push reply\r\n");

    // SET-ACTIVE-EXPIRE 0 leaves an expired key in place (a read still never sees it); 1 lets it go.
    let stat = |r: &mut crate::common::Raw| {
        let info = r.cmd(&["INFO", "stats"]);
        info.lines().find_map(|l| l.strip_prefix("expired_keys:")).unwrap_or("").to_string()
    };
    assert_eq!(r.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert_eq!(r.cmd(&["SET", "k", "v", "PX", "20"]), "+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(stat(&mut r), "0");
    assert_eq!(r.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), "+OK\r\n");
    let start = std::time::Instant::now();
    while stat(&mut r) != "1" {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "active expiry never ran");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A master asked to stay one says OK as redis-server does; following a master is refused after Redis' own port
/// check.
#[test]
fn replicaof_no_one_on_a_master() {
    let s = Server::start();
    let mut r = s.raw();
    crate::common::check(
        &mut r,
        &[
            (&["REPLICAOF", "NO", "ONE"], "+OK\r\n"),
            (&["replicaof", "no", "one"], "+OK\r\n"),
            (&["SLAVEOF", "No", "One"], "+OK\r\n"),
            (&["REPLICAOF", "NO ONE"], "-ERR wrong number of arguments for 'replicaof' command\r\n"),
            (&["SLAVEOF", "a", "b", "c"], "-ERR wrong number of arguments for 'slaveof' command\r\n"),
            (&["REPLICAOF", "NO", "TWO"], "-ERR Invalid master port\r\n"),
            (&["REPLICAOF", "127.0.0.1", "65536"], "-ERR Invalid master port\r\n"),
            (&["REPLICAOF", "127.0.0.1", "-1"], "-ERR Invalid master port\r\n"),
            (
                &["REPLICAOF", "127.0.0.1", "6379"],
                "-ERR replication is not supported: SableDB can only run as a master\r\n",
            ),
            (&["ROLE"], "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"),
        ],
    );
}

/// FAILOVER and REPLCONF parse their arguments as Redis 7.0 does and answer as its master without replicas does
/// (checked against redis-server 7.0.15); REPLCONF ACK and GETACK end without a reply; SYNC and PSYNC are refused.
#[test]
fn replication_commands_of_a_master_without_replicas() {
    let s = Server::start();
    let mut r = s.raw();
    let none = "-ERR FAILOVER requires connected replicas.\r\n";
    let positive = "-ERR FAILOVER timeout must be greater than 0\r\n";
    let not_int = "-ERR value is not an integer or out of range\r\n";
    let syntax = "-ERR syntax error\r\n";
    crate::common::check(
        &mut r,
        &[
            (&["FAILOVER"], none),
            (&["failover", "abort"], "-ERR No failover in progress.\r\n"),
            (&["FAILOVER", "TIMEOUT", "10"], none),
            (&["FAILOVER", "TIMEOUT", "0"], positive),
            (&["FAILOVER", "TIMEOUT", "-1"], positive),
            (&["FAILOVER", "TIMEOUT", "abc"], not_int),
            (&["FAILOVER", "TO", "127.0.0.1", "6380", "FORCE"], none),
            (&["FAILOVER", "TO", "127.0.0.1", "abc"], not_int),
            (&["FAILOVER", "TO", "localhost"], syntax),
            (&["FAILOVER", "FORCE"], none),
            (&["FAILOVER", "FORCE", "FORCE"], syntax),
            (&["FAILOVER", "ABORT", "TIMEOUT", "10"], syntax),
            (&["FAILOVER", "TIMEOUT", "10", "TIMEOUT", "20"], syntax),
            (&["FAILOVER", "TO", "a", "1", "TO", "b", "2"], syntax),
            (&["FAILOVER", "foo"], syntax),
            (&["REPLCONF"], "+OK\r\n"),
            (&["REPLCONF", "listening-port", "1234", "CAPA", "eof", "capa", "psync2"], "+OK\r\n"),
            (&["REPLCONF", "ip-address", "1.2.3.4", "rdb-only", "1"], "+OK\r\n"),
            (&["REPLCONF", "listening-port"], syntax),
            (&["REPLCONF", "listening-port", "abc"], not_int),
            (&["REPLCONF", "rdb-only", "2"], "-ERR value is out of range, value must between 0 and 1\r\n"),
            (&["REPLCONF", "rdb-only", "x"], not_int),
            (&["REPLCONF", "capa", "x", "foo", "y"], "-ERR Unrecognized REPLCONF option: foo\r\n"),
            (
                &["REPLCONF", "ip-address", &"a".repeat(256)],
                "-ERR REPLCONF ip-address provided by replica instance is too long: 256 bytes\r\n",
            ),
            (&["SYNC"], "-ERR replication is not supported: SableDB can only run as a master\r\n"),
            (&["PSYNC", "?", "-1"], "-ERR replication is not supported: SableDB can only run as a master\r\n"),
        ],
    );
    r.send(&Raw::encode(&[b"REPLCONF", b"ACK", b"10"]));
    r.send(&Raw::encode(&[b"REPLCONF", b"capa", b"eof", b"GETACK", b"*"]));
    assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    // RESTORE-ASKING is RESTORE.
    let mut c = s.conn();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let payload: Vec<u8> = redis::cmd("DUMP").arg("k").query(&mut c).unwrap();
    let restore = |c: &mut redis::Connection| redis::cmd("RESTORE-ASKING").arg("k2").arg(0).arg(&payload).query(c);
    let ok: redis::RedisResult<String> = restore(&mut c);
    assert_eq!(ok.unwrap(), "OK");
    let v: String = redis::cmd("GET").arg("k2").query(&mut c).unwrap();
    assert_eq!(v, "v");
    let busy: redis::RedisResult<String> = restore(&mut c);
    assert_eq!(busy.unwrap_err().code(), Some("BUSYKEY"));
}

#[test]
fn command_getkeysandflags_matches_redis() {
    let s = Server::start();
    let mut r = s.raw();
    crate::common::check(
        &mut r,
        &[
            (
                &["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "left", "left"],
                "*2\r\n*2\r\n$1\r\na\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n*2\r\n+RW\r\n+insert\r\n",
            ),
            // SET's and BITFIELD's flags depend on their options (Redis' setGetKeys, bitfieldGetKeys).
            (&["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"], "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n"),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "NX", "Get"],
                "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
            ),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "SAT"],
                "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n",
            ),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0", "INCRBY", "u8", "0", "1"],
                "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
            ),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8"],
                "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
            ),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "SORT", "k", "STORE", "d"],
                "*2\r\n*2\r\n$1\r\nk\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nd\r\n*2\r\n+OW\r\n+update\r\n",
            ),
            (&["COMMAND", "GETKEYSANDFLAGS", "nosuch", "a"], "-ERR Invalid command specified\r\n"),
            (&["COMMAND", "GETKEYSANDFLAGS", "ping", "x"], "-ERR The command has no key arguments\r\n"),
            (&["COMMAND", "GETKEYSANDFLAGS", "set", "a"], "-ERR Invalid number of arguments specified for command\r\n"),
            (
                &["COMMAND", "GETKEYSANDFLAGS", "get"],
                "-ERR wrong number of arguments for 'command|getkeysandflags' command\r\n",
            ),
        ],
    );
    r.cmd(&["HELLO", "3"]);
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYSANDFLAGS", "LMOVE", "a", "b", "left", "left"]),
        "*2\r\n*2\r\n$1\r\na\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n~2\r\n+RW\r\n+insert\r\n"
    );
}

#[test]
fn save_and_bgsave_flush_and_count() {
    let s = Server::start();
    let mut r = s.raw();
    let persistence = |r: &mut Raw, name: &str| -> String {
        let info = r.cmd(&["INFO", "persistence"]);
        info.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string)).unwrap_or_default()
    };
    r.cmd(&["MSET", "a", "1", "b", "2"]);
    assert_eq!(persistence(&mut r, "rdb_changes_since_last_save"), "2");
    assert_eq!(persistence(&mut r, "rdb_saves"), "0");
    crate::common::check(
        &mut r,
        &[
            (&["SAVE"], "+OK\r\n"),
            (&["SAVE", "x"], "-ERR wrong number of arguments for 'save' command\r\n"),
            (&["BGSAVE", "x"], "-ERR syntax error\r\n"),
            (&["BGSAVE", "SCHEDULE", "x"], "-ERR syntax error\r\n"),
        ],
    );
    assert_eq!(persistence(&mut r, "rdb_changes_since_last_save"), "0");
    assert_eq!(persistence(&mut r, "rdb_saves"), "1");
    assert!(r.cmd(&["LASTSAVE"]).trim_start_matches(':').trim().parse::<u64>().unwrap_or(0) + 5 >= now_secs());
    assert_eq!(r.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while persistence(&mut r, "rdb_bgsave_in_progress") != "0" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(persistence(&mut r, "rdb_bgsave_in_progress"), "0");
    assert_eq!(persistence(&mut r, "rdb_last_bgsave_status"), "ok");
    assert_eq!(persistence(&mut r, "rdb_saves"), "2");
    assert_eq!(r.cmd(&["BGSAVE", "SCHEDULE"]), "+Background saving started\r\n");
    // Inside a transaction Redis schedules it; so does SableDB's reply.
    r.cmd(&["MULTI"]);
    r.cmd(&["BGSAVE"]);
    let exec = r.cmd(&["EXEC"]);
    assert!(
        exec == "*1\r\n+Background saving scheduled\r\n"
            || exec == "*1\r\n-ERR Background save already in progress\r\n",
        "{exec}"
    );
    // The log's rewrite flushes too, and leaves the changes count alone (Redis' dirty count).
    r.cmd(&["SET", "c", "3"]);
    assert_eq!(r.cmd(&["BGREWRITEAOF"]), "+Background append only file rewriting started\r\n");
    assert_eq!(r.cmd(&["BGREWRITEAOF", "x"]), "-ERR wrong number of arguments for 'bgrewriteaof' command\r\n");
    assert_eq!(persistence(&mut r, "rdb_changes_since_last_save"), "1");
    // The memtables are in SST files now.
    assert!(std::fs::read_dir(s.db_path())
        .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "sst")))
        .unwrap_or(false));
}

#[test]
fn debug_digests_objects_and_populate_as_redis() {
    let s = Server::start_with(&["--enable-debug-command", "yes"]);
    let mut r = s.raw();
    for cmd in [
        &["RPUSH", "l", "a", "b", "c", "1", "2"][..],
        &["SET", "s", "12345"],
        &["SADD", "st", "1", "2", "3"],
        &["SADD", "sb", "a", "b", "c"],
        &["HSET", "h", "f", "v", "g", "w"],
        &["ZADD", "z", "1", "a", "2.5", "b", "-3", "c"],
        &["XADD", "x", "1-1", "a", "1", "b", "2"],
        &["XADD", "x", "2-0", "c", "3"],
        &["SET", "e", "v", "PX", "100000"],
    ] {
        assert!(!r.cmd(cmd).starts_with('-'), "{cmd:?}");
    }
    // DEBUG OBJECT as redis-server 7.0.15 words it (its address and LRU clock aside).
    let object = |r: &mut crate::common::Raw, key: &str| {
        let line = r.cmd(&["DEBUG", "OBJECT", key]);
        line.split(' ').filter(|f| !f.starts_with("at:") && !f.starts_with("lru:")).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(
        object(&mut r, "l"),
        "+Value refcount:1 encoding:quicklist serializedlength:23 lru_seconds_idle:0 ql_nodes:1 ql_avg_node:5.00 \
         ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:20\r\n"
    );
    assert_eq!(object(&mut r, "s"), "+Value refcount:1 encoding:int serializedlength:3 lru_seconds_idle:0\r\n");
    assert_eq!(object(&mut r, "h"), "+Value refcount:1 encoding:listpack serializedlength:20 lru_seconds_idle:0\r\n");
    assert_eq!(r.cmd(&["DEBUG", "OBJECT", "nosuch"]), "-ERR no such key\r\n");
    assert!(r.cmd(&["DEBUG", "OBJECT", "x"]).contains(" encoding:stream "));
    // A value larger than any a client may write is refused, not allocated.
    assert_eq!(
        r.cmd(&["DEBUG", "POPULATE", "1", "big", "100000000000"]),
        "-ERR value is out of range, must not exceed proto-max-bulk-len\r\n"
    );
    // The same key keeps its identity.
    let at = |r: &mut crate::common::Raw| r.cmd(&["DEBUG", "OBJECT", "l"]).split(' ').nth(1).map(str::to_string);
    assert_eq!(at(&mut r), at(&mut r));
    crate::common::check(
        &mut r,
        &[
            (&["DEBUG", "POPULATE", "3", "pre", "2"], "+OK\r\n"),
            (&["DEBUG", "POPULATE", "-1"], "-ERR value is out of range, must be positive\r\n"),
            (&["DEBUG", "POPULATE", "2"], "+OK\r\n"),
            (&["MGET", "pre:0", "key:1"], "*2\r\n$2\r\nva\r\n$7\r\nvalue:1\r\n"),
        ],
    );
    // Digests of redis-server 7.0.15 for the same data.
    let values = r.cmd(&["DEBUG", "DIGEST-VALUE", "s", "l", "st", "sb", "h", "z", "x", "e", "nosuch"]);
    let want = [
        "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83",
        "f48a1249517530ff1906fc79ddbf9b687f71f06f",
        "2a462a3f51a1db89738ebbeef0c47ce1bbc85246",
        "593c2414786d75446e97f4ea5d4b731f3313da72",
        "d127864ed50239662bf61bafc9bda63c17da5b37",
        "2dd2ef669bd842b340aed0cb20be587954151e2b",
        "f9ebfe376baf354398c20e9bb5219235f942dafe",
        "311b17018163335616e089f6b951c82c477335ac",
        "0000000000000000000000000000000000000000",
    ];
    assert_eq!(values, format!("*9\r\n{}", want.iter().map(|d| format!("+{d}\r\n")).collect::<String>()));
    r.cmd(&["SELECT", "3"]);
    r.cmd(&["SET", "k3", "v"]);
    let digest = "+de557f76e224a91c5867e01a36c6dbf53f57aa6d\r\n";
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), digest);
    // A reload changes nothing, and neither does a restart; loading over the data without MERGE conflicts.
    assert_eq!(r.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(
        r.cmd(&["DEBUG", "RELOAD", "NOFLUSH"]),
        "-ERR Error trying to load the RDB dump, check server logs.\r\n"
    );
    assert_eq!(r.cmd(&["DEBUG", "RELOAD", "NOFLUSH", "MERGE"]), "+OK\r\n");
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), digest);
    let mut s = s;
    s.restart();
    let mut r = s.raw();
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), digest);
    r.cmd(&["FLUSHALL"]);
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), "+0000000000000000000000000000000000000000\r\n");
}
