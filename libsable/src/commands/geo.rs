//! The GEO family: GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms),
//! GEOSEARCH and GEOSEARCHSTORE, as Redis 7.0's geo.c.
//!
//! A geo key is a sorted set whose scores are 52-bit geohashes ([`hash`]): GEOADD is ZADD with the scores
//! computed, so ZSCORE, ZRANGE and the rest work on geo keys as in Redis. A search scans the score ranges of
//! nine grid boxes around the centre in Redis' order, keeps the members inside the shape, sorts them by
//! distance as Redis does (glibc's stable `qsort`, or Redis' own partial `pqsort` when COUNT cuts the result)
//! and replies or stores them (through the sorted set family's STORE writer).

mod hash;

use bytes::Bytes;
use rustc_apfloat::ieee::{Double, X87DoubleExtended};
use rustc_apfloat::{Float, FloatConvert};

use self::hash::{Search, Shape};
use super::collection;
use super::string::long_double;
use super::zset::{self, parse_score, read_locked, score_bound, score_of, Walk};
use super::{Args, CmdError, CmdResult, Ctx, Handler};
use crate::resp::reply::Reply;
use crate::storage::encoding::Collection;
use crate::storage::KeyType;
use crate::util::pqsort::pqsort;

pub const HANDLERS: &[(&str, Handler)] = &[
    ("geoadd", geoadd),
    ("geodist", geodist),
    ("geohash", geohash),
    ("geopos", geopos),
    ("georadius", georadius),
    ("georadius_ro", georadius_ro),
    ("georadiusbymember", georadiusbymember),
    ("georadiusbymember_ro", georadiusbymember_ro),
    ("geosearch", geosearch),
    ("geosearchstore", geosearchstore),
];

/// `extractLongLatOrReply`: two doubles, inside the WGS84 limits.
fn lon_lat(lon: &[u8], lat: &[u8]) -> CmdResult<(f64, f64)> {
    let lon = parse_score(lon).ok_or(CmdError::NotFloat)?;
    let lat = parse_score(lat).ok_or(CmdError::NotFloat)?;
    if !(hash::LONG_MIN..=hash::LONG_MAX).contains(&lon) || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&lat) {
        return Err(CmdError::err(format!("invalid longitude,latitude pair {lon:.6},{lat:.6}")));
    }
    Ok((lon, lat))
}

/// `extractUnitOrReply`: meters per unit.
fn unit(u: &[u8]) -> CmdResult<f64> {
    match u.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::err("unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// A non-negative number (`need` names it in the error for a non-number).
fn distance_arg(arg: &[u8], need: &str) -> CmdResult<f64> {
    parse_score(arg).ok_or_else(|| CmdError::err(format!("need numeric {need}")))
}

/// `extractDistanceOrReply`: a radius and its unit.
fn radius_args(radius: &[u8], u: &[u8]) -> CmdResult<(Shape, f64)> {
    let radius = distance_arg(radius, "radius")?;
    if radius < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((Shape::Circle { radius }, unit(u)?))
}

/// `extractBoxOrReply`: a width, a height and their unit.
fn box_args(width: &[u8], height: &[u8], u: &[u8]) -> CmdResult<(Shape, f64)> {
    let width = distance_arg(width, "width")?;
    let height = distance_arg(height, "height")?;
    if height < 0.0 || width < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((Shape::Box { width, height }, unit(u)?))
}

/// A coordinate as Redis' `addReplyHumanLongDouble` writes it: `%.17Lf` without trailing zeros, a bulk string
/// in RESP2 and a double in RESP3.
fn human_double(out: &mut Reply, d: f64) {
    let wide: X87DoubleExtended = Double::from_bits(u128::from(d.to_bits())).convert(&mut false).value;
    let text = long_double::format(wide);
    if out.resp3 {
        out.raw(format!(",{text}\r\n").as_bytes());
    } else {
        out.bulk(text.as_bytes());
    }
}

/// GEOADD key [NX|XX] [CH] longitude latitude member …: ZADD with the geohashes as scores (Redis rewrites the
/// command into a ZADD and runs it, which is where CH and the `zadd` event come from).
fn geoadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut options = Vec::new();
    let (mut nx, mut xx) = (false, false);
    while let Some(opt) = args.peek() {
        if args.eat("NX") {
            nx = true;
        } else if args.eat("XX") {
            xx = true;
        } else if !args.eat("CH") {
            break;
        }
        options.push(opt.clone());
    }
    let triples = args.rest();
    if !triples.len().is_multiple_of(3) || (nx && xx) || triples.is_empty() {
        return Err(CmdError::Syntax);
    }
    let mut argv = vec![Bytes::from_static(b"zadd"), key.clone()];
    argv.extend(options);
    for t in triples.chunks(3) {
        let (lon, lat) = lon_lat(&t[0], &t[1])?;
        let score = hash::score_of(lon, lat).ok_or_else(|| CmdError::err("invalid longitude,latitude pair"))?;
        argv.push(Bytes::from(score.to_string()));
        argv.push(t[2].clone());
    }
    zset::zadd(ctx, &mut Args::new(&argv, 1))
}

/// GEOPOS key member …: each member's decoded point, or a null array.
fn geopos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (coll, _g) = read_locked(ctx, args.next_bytes()?)?;
    let members = args.rest();
    ctx.out.array(members.len());
    for m in members {
        let score = coll.map(|c| score_of(ctx.store, c.uid, m)).transpose()?.flatten();
        match score.and_then(hash::decode_score) {
            Some((lon, lat)) => {
                ctx.out.array(2);
                human_double(ctx.out, lon);
                human_double(ctx.out, lat);
            }
            None => ctx.out.null_array(),
        }
    }
    Ok(())
}

/// GEOHASH key member …: each member's 11-character geohash, or a null.
fn geohash(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (coll, _g) = read_locked(ctx, args.next_bytes()?)?;
    let members = args.rest();
    ctx.out.array(members.len());
    for m in members {
        let score = coll.map(|c| score_of(ctx.store, c.uid, m)).transpose()?.flatten();
        match score.and_then(hash::geohash_string) {
            Some(text) => ctx.out.bulk(text.as_bytes()),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [unit]: the unit is checked before the key, as in Redis.
fn geodist(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (a, b) = (args.next_bytes()?, args.next_bytes()?);
    let to_meter = match args.remaining() {
        0 => 1.0,
        1 => unit(args.next_bytes()?)?,
        _ => return Err(CmdError::Syntax),
    };
    let (coll, _g) = read_locked(ctx, key)?;
    let Some(coll) = coll else {
        ctx.out.null();
        return Ok(());
    };
    let point = |m: &[u8]| -> CmdResult<Option<(f64, f64)>> {
        Ok(score_of(ctx.store, coll.uid, m)?.and_then(hash::decode_score))
    };
    match (point(a)?, point(b)?) {
        (Some((lon1, lat1)), Some((lon2, lat2))) => {
            let d = hash::distance(lon1, lat1, lon2, lat2) / to_meter;
            ctx.out.bulk(hash::fmt_distance(d).as_bytes());
        }
        _ => ctx.out.null(),
    }
    Ok(())
}

/// Which command of the radius/search family runs (Redis' `georadiusGeneric` flags).
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// GEORADIUS (and _RO with `nostore`).
    Radius {
        nostore: bool,
    },
    /// GEORADIUSBYMEMBER (and _RO).
    ByMember {
        nostore: bool,
    },
    Search,
    SearchStore,
}

impl Variant {
    fn nostore(self) -> bool {
        matches!(self, Variant::Radius { nostore: true } | Variant::ByMember { nostore: true })
    }

    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A parsed search: `search` is None when the source key is missing.
struct Query<'a> {
    search: Option<Search>,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: u64,
    store: Option<&'a [u8]>,
    storedist: bool,
}

/// Where a FROMMEMBER / BYMEMBER centre comes from: the member's point, None when it is not in the set;
/// `exists` false when the key is missing (the member is then not looked up).
struct Source<'f> {
    exists: bool,
    point: PointOf<'f>,
}

/// A member's point, when it is in the set.
type PointOf<'f> = &'f dyn Fn(&[u8]) -> CmdResult<Option<(f64, f64)>>;

impl Source<'_> {
    fn centre(&self, member: &[u8]) -> CmdResult<(f64, f64)> {
        (self.point)(member)?.ok_or_else(|| CmdError::err("could not decode requested zset member"))
    }
}

/// The argument loop of `georadiusGeneric`, with its checks in Redis' order.
fn parse<'a>(argv: &'a [Bytes], variant: Variant, src: &Source) -> CmdResult<Query<'a>> {
    let mut q = Query {
        search: None,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
        store: None,
        storedist: false,
    };
    let (mut centre, mut shape) = (None, None);
    let base = match variant {
        Variant::Radius { .. } => {
            centre = Some(lon_lat(&argv[2], &argv[3])?);
            shape = Some(radius_args(&argv[4], &argv[5])?);
            6
        }
        Variant::ByMember { .. } => {
            if src.exists {
                centre = Some(src.centre(&argv[2])?);
                shape = Some(radius_args(&argv[3], &argv[4])?);
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            q.store = Some(&argv[1][..]);
            3
        }
    };
    let search = variant.is_search();
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let opts = &argv[base.min(argv.len())..];
    let remaining = opts.len();
    let mut i = 0;
    while i < remaining {
        let arg = opts[i].to_ascii_lowercase();
        let left = remaining - i - 1;
        match arg.as_slice() {
            b"withdist" => q.withdist = true,
            b"withhash" => q.withhash = true,
            b"withcoord" => q.withcoord = true,
            b"any" => q.any = true,
            b"asc" => q.sort = Sort::Asc,
            b"desc" => q.sort = Sort::Desc,
            b"count" if left >= 1 => {
                let n = crate::util::parse_i64(&opts[i + 1]).ok_or(CmdError::NotInteger)?;
                if n <= 0 {
                    return Err(CmdError::err("COUNT must be > 0"));
                }
                q.count = n as u64;
                i += 1;
            }
            b"store" | b"storedist" if left >= 1 && !variant.nostore() && !search => {
                q.store = Some(&opts[i + 1][..]);
                q.storedist = arg == b"storedist";
                i += 1;
            }
            b"storedist" if variant == Variant::SearchStore => q.storedist = true,
            b"frommember" if left >= 1 && search && !fromloc => {
                if src.exists {
                    centre = Some(src.centre(&opts[i + 1])?);
                }
                frommember = true;
                i += 1;
            }
            b"fromlonlat" if left >= 2 && search && !frommember => {
                centre = Some(lon_lat(&opts[i + 1], &opts[i + 2])?);
                fromloc = true;
                i += 2;
            }
            b"byradius" if left >= 2 && search && !bybox => {
                shape = Some(radius_args(&opts[i + 1], &opts[i + 2])?);
                byradius = true;
                i += 2;
            }
            b"bybox" if left >= 3 && search && !byradius => {
                shape = Some(box_args(&opts[i + 1], &opts[i + 2], &opts[i + 3])?);
                bybox = true;
                i += 3;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let what = if variant == Variant::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CmdError::err(format!("{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")));
    }
    let name = String::from_utf8_lossy(&argv[0]);
    if search && !(frommember || fromloc) {
        return Err(CmdError::err(format!("exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::err(format!("exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if q.any && q.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    if src.exists {
        if let (Some((lon, lat)), Some((shape, conversion))) = (centre, shape) {
            q.search = Some(Search { lon, lat, shape, conversion });
        }
    }
    Ok(q)
}

/// A member found by a search (Redis' `geoPoint`).
struct Point {
    member: Vec<u8>,
    lon: f64,
    lat: f64,
    dist: f64,
    score: f64,
}

/// `membersOfAllNeighbors`: the members inside the shape, box by box (a box equal to the one scanned just
/// before it is skipped), each box in score order; with a `limit` (COUNT ANY), stops once that many are found.
fn members_in(store: &crate::storage::Store, coll: &Collection, s: &Search, limit: u64) -> CmdResult<Vec<Point>> {
    let mut found: Vec<Point> = Vec::new();
    let full = |found: &Vec<Point>| limit > 0 && !found.is_empty() && found.len() as u64 >= limit;
    let boxes = s.boxes();
    let mut last: Option<usize> = None;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        if last.is_some_and(|l| boxes[l] == *b) {
            continue;
        }
        if full(&found) {
            break;
        }
        let (min, max) = hash::box_scores(*b);
        let (from, to) = (score_bound(min as f64, false), score_bound(max as f64, false));
        if from < to {
            let mut walk = Walk::between(store, coll, &from, &to, false);
            while let Some((member, score)) = walk.next()? {
                if let Some((lon, lat)) = hash::decode_score(score) {
                    if let Some(dist) = s.contains(lon, lat) {
                        found.push(Point { member: member.to_vec(), lon, lat, dist, score });
                    }
                }
                if full(&found) {
                    break;
                }
            }
        }
        // Redis only remembers the last box it scanned when that box was not the first one.
        if i > 0 {
            last = Some(i);
        }
    }
    Ok(found)
}

/// Redis' `sort_gp_asc`.
fn by_distance(a: &Point, b: &Point) -> i32 {
    if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    }
}

fn georadius(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::Radius { nostore: false })
}

fn georadius_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::Radius { nostore: true })
}

fn georadiusbymember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::ByMember { nostore: false })
}

fn georadiusbymember_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::ByMember { nostore: true })
}

fn geosearch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::Search)
}

fn geosearchstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    radius_generic(ctx, args, Variant::SearchStore)
}

/// Redis' `georadiusGeneric`. The destination of a STORE is known from the arguments alone, so a first parse
/// that reads nothing finds it; the source and the destination are then locked together and the arguments
/// parsed for real (reading the source for a member's point), so the search and the store are one step.
fn radius_generic(ctx: &mut Ctx, args: &mut Args, variant: Variant) -> CmdResult {
    let argv = args.argv();
    let src_key = &argv[if variant == Variant::SearchStore { 2 } else { 1 }][..];
    let nothing = |_: &[u8]| Ok(None);
    let dst = parse(argv, variant, &Source { exists: false, point: &nothing }).ok().and_then(|q| q.store);
    let keys: Vec<&[u8]> = std::iter::once(src_key).chain(dst).collect();
    let _g = ctx.store.locks.lock(&keys);
    let coll = collection::read(ctx, src_key, KeyType::ZSet)?;
    let store = ctx.store;
    let point = |m: &[u8]| -> CmdResult<Option<(f64, f64)>> {
        match coll {
            Some(c) => Ok(score_of(store, c.uid, m)?.and_then(hash::decode_score)),
            None => Ok(None),
        }
    };
    let q = parse(argv, variant, &Source { exists: coll.is_some(), point: &point })?;
    let (Some(coll), Some(search)) = (coll, q.search) else {
        return match q.store {
            Some(dst) => zset::store_result(ctx, dst, &[], "georadiusstore"),
            None => {
                ctx.out.array(0);
                Ok(())
            }
        };
    };
    let mut sort = q.sort;
    if q.count != 0 && sort == Sort::None && !q.any {
        sort = Sort::Asc;
    }
    let mut found = members_in(store, &coll, &search, if q.any { q.count } else { 0 })?;
    let returned = if q.count == 0 || (found.len() as u64) < q.count { found.len() } else { q.count as usize };
    if sort != Sort::None {
        let asc = |a: &Point, b: &Point| by_distance(a, b);
        let desc = |a: &Point, b: &Point| -by_distance(a, b);
        let cmp: &dyn Fn(&Point, &Point) -> i32 = if sort == Sort::Asc { &asc } else { &desc };
        if returned == found.len() {
            // glibc's qsort is a stable merge sort for arrays like these.
            found.sort_by(|a, b| cmp(a, b).cmp(&0));
        } else if returned > 0 {
            pqsort(&mut found, &|a, b| cmp(a, b).cmp(&0), 0, returned as i64 - 1);
        }
    }
    found.truncate(returned);
    for p in &mut found {
        p.dist /= search.conversion;
    }
    match q.store {
        Some(dst) => {
            let mut entries: Vec<(Vec<u8>, f64)> = Vec::with_capacity(found.len());
            let mut seen = std::collections::HashSet::new();
            for p in found {
                if seen.insert(p.member.clone()) {
                    entries.push((p.member, if q.storedist { p.dist } else { p.score }));
                }
            }
            let event = if variant.is_search() { "geosearchstore" } else { "georadiusstore" };
            zset::store_result(ctx, dst, &entries, event)
        }
        None => {
            reply_points(ctx.out, &found, &q);
            Ok(())
        }
    }
}

/// The search reply: members alone, or each as `[member, dist?, hash?, [lon, lat]?]`.
fn reply_points(out: &mut Reply, found: &[Point], q: &Query) {
    let options = usize::from(q.withdist) + usize::from(q.withhash) + usize::from(q.withcoord);
    out.array(found.len());
    for p in found {
        if options > 0 {
            out.array(options + 1);
        }
        out.bulk(&p.member);
        if q.withdist {
            out.bulk(hash::fmt_distance(p.dist).as_bytes());
        }
        if q.withhash {
            out.int(hash::c_double_to_i64(p.score));
        }
        if q.withcoord {
            out.array(2);
            human_double(out, p.lon);
            human_double(out, p.lat);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_print_like_human_long_doubles() {
        // As redis-server 7.0.15 replies GEOPOS (RESP2 bulk strings).
        let text = |d: f64| {
            let mut out = Reply::new(false);
            human_double(&mut out, d);
            let reply = String::from_utf8(out.buf.to_vec()).unwrap();
            reply.split("\r\n").nth(1).unwrap_or_default().to_string()
        };
        assert_eq!(text(13.361389338970184), "13.36138933897018433");
        assert_eq!(text(85.05112878), "85.0511287799999991");
        assert_eq!(text(180.0), "180");
        assert_eq!(text(2.682209014892578e-6), "0.00000268220901489");
        assert_eq!(text(-179.99999731779099), "-179.99999731779098511");
        let mut out = Reply::new(true);
        human_double(&mut out, -0.1274988055229187);
        assert_eq!(&out.buf[..], b",-0.1274988055229187\r\n");
    }

    #[test]
    fn invalid_pairs_are_reported_like_redis() {
        assert_eq!(
            lon_lat(b"200", b"100").unwrap_err().message(),
            "ERR invalid longitude,latitude pair 200.000000,100.000000"
        );
        assert_eq!(lon_lat(b"abc", b"1").unwrap_err(), CmdError::NotFloat);
        assert_eq!(lon_lat(b"nan", b"1").unwrap_err(), CmdError::NotFloat);
        assert_eq!(lon_lat(b"1", b"-inf").unwrap_err().message(), "ERR invalid longitude,latitude pair 1.000000,-inf");
        assert!(lon_lat(b"-180", b"85.05112878").is_ok());
    }
}
