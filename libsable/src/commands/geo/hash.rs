//! Redis' geohash arithmetic (geohash.c and geohash_helper.c): encoding a longitude/latitude into the 52-bit
//! interleaved integer that is a geo member's score, decoding it back, the eight neighbours of a box, the nine
//! boxes that cover a search shape, the haversine distance, and the 11-character GEOHASH string. Every step is
//! the same double arithmetic (and the same libm calls) as Redis', so the same bits and digits come out.

use std::f64::consts::PI;

pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// 26 steps of longitude and latitude: 52 bits.
pub const STEP_MAX: u8 = 26;

const D_R: f64 = PI / 180.0;
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A cell of the grid: `step` bits of longitude and of latitude, interleaved (latitude in the even bits).
/// A zeroed hash (bits and step 0) is a neighbour that a search leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score: its bits shifted to the top of 52.
    pub fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell a hash covers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub lon: Range,
    pub lat: Range,
}

const WGS84_LON: Range = Range { min: LONG_MIN, max: LONG_MAX };
const WGS84_LAT: Range = Range { min: LAT_MIN, max: LAT_MAX };

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let (mut x, mut y) = (interleaved, interleaved >> 1);
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: None outside the WGS84 limits or the given ranges.
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step == 0 || step > 32 {
        return None;
    }
    let outside_wgs = !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat);
    let outside = lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max;
    if outside_wgs || outside {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Hash { bits: interleave64(lat_offset as u32, lon_offset as u32), step })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Hash> {
    encode(WGS84_LON, WGS84_LAT, lon, lat, step)
}

/// The score GEOADD stores for a valid point.
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(Hash::align52)
}

/// `geohashDecode` over the WGS84 ranges: None for a zeroed hash.
pub fn decode(hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    let lat_scale = WGS84_LAT.max - WGS84_LAT.min;
    let lon_scale = WGS84_LON.max - WGS84_LON.min;
    Some(Area {
        lat: Range {
            min: WGS84_LAT.min + (f64::from(ilat) / div) * lat_scale,
            max: WGS84_LAT.min + (f64::from(ilat.wrapping_add(1)) / div) * lat_scale,
        },
        lon: Range {
            min: WGS84_LON.min + (f64::from(ilon) / div) * lon_scale,
            max: WGS84_LON.min + (f64::from(ilon.wrapping_add(1)) / div) * lon_scale,
        },
    })
}

/// C's `(uint64_t)` of a double as x86-64 code computes it (out-of-range values give 2^63).
pub fn c_double_to_u64(v: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    if v < TWO63 {
        c_double_to_i64(v) as u64
    } else {
        (c_double_to_i64(v - TWO63) as u64) ^ (1 << 63)
    }
}

/// C's `(long long)` of a double on x86-64 (`cvttsd2si`): NaN and out-of-range values give i64::MIN.
pub fn c_double_to_i64(v: f64) -> i64 {
    if !(-9223372036854775808.0..9223372036854775808.0).contains(&v) {
        i64::MIN
    } else {
        v as i64
    }
}

/// `decodeGeohash`: a member's score back to the centre of its cell, clamped to the WGS84 limits.
pub fn decode_score(score: f64) -> Option<(f64, f64)> {
    let area = decode(Hash { bits: c_double_to_u64(score), step: STEP_MAX })?;
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some((lon, lat))
}

fn move_x(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> width;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaa >> width;
    hash.bits = x | y;
}

fn move_y(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> width;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555 >> width;
    hash.bits = x | y;
}

fn moved(hash: Hash, dx: i8, dy: i8) -> Hash {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// A search shape: a circle of `radius`, or a `width` × `height` box, in the unit `conversion` converts to
/// meters, around (`lon`, `lat`).
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct Search {
    pub lon: f64,
    pub lat: f64,
    pub shape: Shape,
    pub conversion: f64,
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

impl Search {
    /// `geohashBoundingBox`: min longitude, min latitude, max longitude, max latitude.
    fn bounding_box(&self) -> [f64; 4] {
        let (height, width) = match self.shape {
            Shape::Circle { radius } => (radius, radius),
            Shape::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let (height, width) = (self.conversion * height, self.conversion * width);
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat - lat_delta).cos());
        let delta = if self.lat < 0.0 { long_delta_bottom } else { long_delta_top };
        [self.lon - delta, self.lat - lat_delta, self.lon + delta, self.lat + lat_delta]
    }

    /// `geohashCalculateAreasByShapeWGS84`: the nine boxes to scan, in Redis' order (the centre, north, south,
    /// east, west, north-east, north-west, south-east, south-west); useless ones are zeroed.
    pub fn boxes(&self) -> [Hash; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let radius_meters = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, self.lat);
        let cell = |steps: u8| {
            let hash = encode(WGS84_LON, WGS84_LAT, self.lon, self.lat, steps).unwrap_or(Hash { bits: 0, step: steps });
            (hash, decode(hash).unwrap_or_default())
        };
        let (mut hash, mut area) = cell(steps);
        let edge = |h: Hash| decode(h).unwrap_or_default();
        let decrease = edge(moved(hash, 0, 1)).lat.max < max_lat
            || edge(moved(hash, 0, -1)).lat.min > min_lat
            || edge(moved(hash, 1, 0)).lon.max < max_lon
            || edge(moved(hash, -1, 0)).lon.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            (hash, area) = cell(steps);
        }
        // north, south, east, west, north-east, north-west, south-east, south-west
        let mut n =
            [(0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1)].map(|(dx, dy)| moved(hash, dx, dy));
        if steps >= 2 {
            let zero = |n: &mut [Hash; 8], which: [usize; 3]| which.iter().for_each(|&i| n[i] = Hash::default());
            if area.lat.min < min_lat {
                zero(&mut n, [1, 7, 6]);
            }
            if area.lat.max > max_lat {
                zero(&mut n, [0, 4, 5]);
            }
            if area.lon.min < min_lon {
                zero(&mut n, [3, 7, 5]);
            }
            if area.lon.max > max_lon {
                zero(&mut n, [2, 6, 4]);
            }
        }
        [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
    }

    /// `geoWithinShape` after the decode: the distance (meters) from the centre when (`lon`, `lat`) is inside.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.shape {
            Shape::Circle { radius } => {
                let d = distance(self.lon, self.lat, lon, lat);
                // NaN compares as inside, as in Redis.
                match d.partial_cmp(&(radius * self.conversion)) {
                    Some(std::cmp::Ordering::Greater) => None,
                    _ => Some(d),
                }
            }
            Shape::Box { width, height } => {
                let (width, height) = (width * self.conversion, height * self.conversion);
                if lat_distance(lat, self.lat) > height / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }
}

/// The scores of a box: `[min, max)` (`scoresOfGeoHashBox`).
pub fn box_scores(hash: Hash) -> (u64, u64) {
    let min = hash.align52();
    let max = Hash { bits: hash.bits.wrapping_add(1), step: hash.step }.align52();
    (min, max)
}

/// `geohashGetLatDistance`.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// `geohashGetDistance`: the haversine distance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// GEOHASH's string for a member's score: its point re-encoded over latitudes ±90, in base 32, 11 characters
/// (the last one always `0`). None when the score does not decode.
pub fn geohash_string(score: f64) -> Option<String> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score)?;
    let hash = encode(WGS84_LON, Range { min: -90.0, max: 90.0 }, lon, lat, STEP_MAX)?;
    let text = (0..11)
        .map(|i| {
            let idx = if i == 10 { 0 } else { (hash.bits >> (52 - (i + 1) * 5)) & 0x1f };
            ALPHABET[idx as usize] as char
        })
        .collect();
    Some(text)
}

/// Redis' `fixedpoint_d2string` with 4 decimals (distances): `llrint(d × 10^4)` written with its point.
pub fn fmt_distance(d: f64) -> String {
    let v = c_double_to_i64((d * 10000.0).round_ties_even());
    let sign = if v < 0 { "-" } else { "" };
    let u = v.unsigned_abs();
    format!("{sign}{}.{:04}", u / 10000, u % 10000)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expected value below was read from redis-server 7.0.15.

    #[test]
    fn scores_are_redis_geohashes() {
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(score_of(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(score_of(-0.1275, 51.507222), Some(2163557714840001));
        assert_eq!(score_of(0.0, 0.0), Some(3377699720527872));
        assert_eq!(score_of(-180.0, -85.05112878), Some(0));
        // The top corner overflows 52 bits, as in Redis.
        assert_eq!(score_of(180.0, 85.05112878), Some(13510798882111488));
        assert_eq!(score_of(180.1, 0.0), None);
        assert_eq!(score_of(0.0, 85.06), None);
    }

    #[test]
    fn scores_decode_to_redis_points() {
        assert_eq!(decode_score(3479099956230698.0), Some((13.361389338970184, 38.1155563954963)));
        assert_eq!(decode_score(3479447370796909.0), Some((15.087267458438873, 37.50266842333162)));
        assert_eq!(decode_score(13510798882111488.0), Some((180.0, 85.05112878)));
        assert_eq!(decode_score(0.0), Some((-179.99999731779099, -85.05112751263943)));
        // Scores that are not geohashes decode as Redis' C casts do (1e20 as 2^63, -1 as all ones).
        assert_eq!(decode_score(1e20), decode_score(0.0));
        assert_eq!(decode_score(-1.0), Some((180.0, 85.05112878)));
    }

    #[test]
    fn geohash_strings() {
        assert_eq!(geohash_string(3479099956230698.0).as_deref(), Some("sqc8b49rny0"));
        assert_eq!(geohash_string(3479447370796909.0).as_deref(), Some("sqdtr74hyu0"));
        assert_eq!(geohash_string(2163557714840001.0).as_deref(), Some("gcpvj0e5m10"));
        assert_eq!(geohash_string(3377699720527872.0).as_deref(), Some("s0000000000"));
        assert_eq!(geohash_string(13510798882111488.0).as_deref(), Some("bp05b5048p0"));
        assert_eq!(geohash_string(0.0).as_deref(), Some("00bh0hbj200"));
    }

    #[test]
    fn distances_print_like_geodist() {
        let p = |s: f64| decode_score(s).unwrap();
        let ((lon1, lat1), (lon2, lat2)) = (p(3479099956230698.0), p(3479447370796909.0));
        let d = distance(lon1, lat1, lon2, lat2);
        assert_eq!(fmt_distance(d), "166274.1516");
        assert_eq!(fmt_distance(d / 1000.0), "166.2742");
        assert_eq!(fmt_distance(d / 1609.34), "103.3182");
        assert_eq!(fmt_distance(d / 0.3048), "545518.8700");
        let london = p(2163557714840001.0);
        assert_eq!(fmt_distance(distance(lon1, lat1, london.0, london.1) / 1000.0), "1824.3954");
        let (ne, sw) = (p(13510798882111488.0), p(0.0));
        assert_eq!(fmt_distance(distance(ne.0, ne.1, sw.0, sw.1)), "18919844.5891");
        assert_eq!(fmt_distance(0.0), "0.0000");
        assert_eq!(fmt_distance(0.00004), "0.0000");
    }

    #[test]
    fn neighbours_and_box_ranges() {
        let h = encode_wgs84(13.361389, 38.115556, 4).unwrap();
        let east = moved(h, 1, 0);
        let west = moved(h, -1, 0);
        assert_eq!(moved(east, -1, 0), h);
        assert_eq!(moved(west, 1, 0), h);
        assert_eq!(moved(moved(h, 0, 1), 0, -1), h);
        let (min, max) = box_scores(Hash { bits: 5, step: 26 });
        assert_eq!((min, max), (5, 6));
        let (min, max) = box_scores(Hash { bits: 1, step: 1 });
        assert_eq!((min, max), (1 << 50, 2 << 50));
    }

    #[test]
    fn steps_follow_the_radius() {
        assert_eq!(estimate_steps(0.0, 0.0), 26);
        assert_eq!(estimate_steps(200_000.0, 38.0), 6);
        assert_eq!(estimate_steps(200_000.0, 70.0), 5);
        assert_eq!(estimate_steps(200_000.0, 85.0), 4);
        assert_eq!(estimate_steps(1e9, 0.0), 1);
    }
}
