//! Generator of GEO commands for the differential tester: GEOADD (NX, XX, CH), GEOPOS, GEOHASH, GEODIST,
//! GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH and GEOSEARCHSTORE with random option mixes, and
//! ZRANGE WITHSCORES, ZREM and ZADD on the geo keys (so scores that are not geohashes get decoded too).
//!
//! Points mostly sit on a small grid (a few kilometers apart, several members per point), so searches return
//! many members at equal distances: their order then depends on Redis' scan order and its sorts (a stable
//! `qsort`, or `pqsort` with COUNT), which SableDB must reproduce. Others are random over the whole WGS84 range,
//! at its edges, or invalid.

use super::{Cmd, Gen};

const GEO_KEYS: &[&str] = &["geo:a", "geo:b", "geo:c"];
const UNITS: &[&str] = &["m", "km", "ft", "mi", "M", "KM", "yd"];

/// Mostly one of the geo keys, sometimes a shared key of any type.
fn key(g: &mut Gen) -> Vec<u8> {
    if g.pct(85) {
        g.pick(GEO_KEYS).as_bytes().to_vec()
    } else {
        g.key()
    }
}

fn member(g: &mut Gen) -> Vec<u8> {
    if g.pct(95) {
        format!("p{}", g.range(0, 30)).into_bytes()
    } else {
        g.value()
    }
}

/// A longitude and latitude: on the grid, random, at the limits, or (rarely) invalid.
fn point(g: &mut Gen) -> (String, String) {
    if g.pct(2) {
        return invalid_point(g);
    }
    valid_point(g)
}

fn invalid_point(g: &mut Gen) -> (String, String) {
    if g.pct(50) {
        (g.pick(&["200", "-180.1", "nan", "abc", "1e400", "13.04"]).to_string(), "38.02".to_string())
    } else {
        ("13.02".to_string(), g.pick(&["100", "-85.06", "inf", "", "38.04"]).to_string())
    }
}

fn valid_point(g: &mut Gen) -> (String, String) {
    match g.below(58) {
        0..=47 => {
            let lon = 13.0 + g.range(0, 6) as f64 * 0.02;
            let lat = 38.0 + g.range(0, 6) as f64 * 0.02;
            (format!("{lon}"), format!("{lat}"))
        }
        48..=55 => {
            let lon = g.range(-180_000_000, 180_000_000) as f64 / 1e6;
            let lat = g.range(-85_051_128, 85_051_128) as f64 / 1e6;
            (format!("{lon}"), format!("{lat}"))
        }
        _ => {
            let lon = g.pick(&["-180", "180", "0", "179.999999", "-0"]);
            let lat = g.pick(&["85.05112878", "-85.05112878", "0", "85.05112877"]);
            (lon.to_string(), lat.to_string())
        }
    }
}

fn radius(g: &mut Gen) -> String {
    if g.pct(3) {
        return g.pick(&["-1", "abc", "1e400"]).to_string();
    }
    g.pick(&["0", "1", "500", "1000", "2", "2.5", "5", "10", "50", "300", "5000", "20000"]).to_string()
}

fn unit(g: &mut Gen) -> String {
    if g.pct(90) {
        g.pick(&["km", "km", "m", "mi", "ft", "KM"]).to_string()
    } else {
        g.pick(UNITS).to_string()
    }
}

/// The options of a search, in random order; `store` allows STORE/STOREDIST (GEORADIUS), `storedist`
/// GEOSEARCHSTORE's bare STOREDIST.
fn options(g: &mut Gen, c: &mut Cmd, store: bool, storedist: bool) {
    let mut opts: Vec<Vec<String>> = Vec::new();
    for w in ["WITHDIST", "WITHHASH", "WITHCOORD"] {
        if g.pct(if store || storedist { 3 } else { 35 }) {
            opts.push(vec![g.word(w)]);
        }
    }
    if g.pct(50) {
        let n = match g.below(10) {
            0 => g.pick(&["0", "-1", "abc", "99999999999999999999"]).to_string(),
            1..=6 => g.range(1, 5).to_string(),
            _ => g.range(6, 80).to_string(),
        };
        opts.push(vec![g.word("COUNT"), n]);
        if g.pct(30) {
            opts.push(vec![g.word("ANY")]);
        }
    } else if g.pct(3) {
        opts.push(vec![g.word("ANY")]);
    }
    if g.pct(60) {
        opts.push(vec![g.keyword(&["ASC", "DESC"])]);
    }
    if store && g.pct(30) {
        opts.push(vec![g.keyword(&["STORE", "STOREDIST"]), g.pick(&["geo:dst", "geo:a", "geo:c"]).to_string()]);
    }
    if storedist && g.pct(40) {
        opts.push(vec![g.word("STOREDIST")]);
    }
    if g.pct(2) {
        opts.push(vec![g.pick(&["NOSUCH", "STORE", "COUNT"]).to_string()]);
    }
    // A random order (Fisher-Yates over the generator's draws).
    for i in (1..opts.len()).rev() {
        let j = g.below(i + 1);
        opts.swap(i, j);
    }
    for o in opts {
        for w in o {
            c.push(w);
        }
    }
}

/// FROMMEMBER or FROMLONLAT, and BYRADIUS or BYBOX, for GEOSEARCH(STORE); sometimes both or neither.
fn search_spec(g: &mut Gen, c: &mut Cmd) {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let from = g.below(40);
    if from < 20 || from == 39 {
        parts.push(vec![g.word("FROMMEMBER"), String::from_utf8_lossy(&member(g)).into_owned()]);
    }
    if (20..=37).contains(&from) || from == 39 {
        let (lon, lat) = point(g);
        parts.push(vec![g.word("FROMLONLAT"), lon, lat]);
    }
    let by = g.below(40);
    if by < 20 || by == 39 {
        parts.push(vec![g.word("BYRADIUS"), radius(g), unit(g)]);
    }
    if (20..=37).contains(&by) || by == 39 {
        let w = radius(g);
        let h = radius(g);
        parts.push(vec![g.word("BYBOX"), w, h, unit(g)]);
    }
    if g.pct(50) {
        parts.reverse();
    }
    for p in parts {
        for w in p {
            c.push(w);
        }
    }
}

pub fn geo(g: &mut Gen) -> Cmd {
    let k = key(g);
    match g.below(100) {
        0..=24 => {
            let mut c = Cmd::new("GEOADD").arg(k);
            if g.pct(25) {
                for w in ["NX", "XX", "CH"] {
                    if g.pct(if w == "CH" { 50 } else { 25 }) {
                        c.push(g.word(w));
                    }
                }
            }
            let most = if g.pct(20) { 40 } else { 6 };
            for _ in 0..g.range(1, most) {
                let (lon, lat) = if most > 6 { valid_point(g) } else { point(g) };
                c.push(lon);
                c.push(lat);
                c.push(member(g));
            }
            c
        }
        25..=31 => {
            let mut c = Cmd::new(&g.keyword(&["GEOPOS", "GEOHASH"])).arg(k);
            for _ in 0..g.range(1, 4) {
                c.push(member(g));
            }
            c
        }
        32..=37 => {
            let mut c = Cmd::new("GEODIST").arg(k).arg(member(g)).arg(member(g));
            if g.pct(70) {
                c.push(unit(g));
            }
            c
        }
        38..=57 => {
            let name = g.pick(&["GEORADIUS", "GEORADIUS", "GEORADIUS_RO", "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"]);
            let mut c = Cmd::new(name).arg(k);
            if name.contains("MEMBER") {
                c.push(member(g));
            } else {
                let (lon, lat) = point(g);
                c.push(lon);
                c.push(lat);
            }
            c.push(radius(g));
            c.push(unit(g));
            let store = !name.ends_with("_RO") || g.pct(10);
            options(g, &mut c, store, false);
            c
        }
        58..=79 => {
            let store = g.pct(30);
            let mut c = if store {
                Cmd::new("GEOSEARCHSTORE").arg(g.pick(&["geo:dst", "geo:a", "geo:c"])).arg(k)
            } else {
                Cmd::new("GEOSEARCH").arg(k)
            };
            search_spec(g, &mut c);
            options(g, &mut c, false, store);
            c
        }
        80..=89 => {
            Cmd::new("ZRANGE").arg(g.pick(&["geo:a", "geo:b", "geo:c", "geo:dst"])).arg("0").arg("-1").arg("WITHSCORES")
        }
        90..=94 => Cmd::new("ZREM").arg(k).arg(member(g)),
        95..=97 => {
            let score =
                g.pick(&["0", "1", "4503599627370495", "4503599627370496", "9007199254740993", "1e20", "123.75"]);
            Cmd::new("ZADD").arg(k).arg(score).arg(member(g))
        }
        _ => Cmd::new("DEL").arg(g.pick(&["geo:a", "geo:b", "geo:c", "geo:dst"])),
    }
}
