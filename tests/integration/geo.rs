//! GEO end to end: GEOADD (NX, XX, CH), GEOPOS, GEOHASH, GEODIST, GEORADIUS, GEORADIUSBYMEMBER and their _RO
//! forms, GEOSEARCH and GEOSEARCHSTORE, with STORE/STOREDIST read back through ZRANGE WITHSCORES, RESP3 replies
//! and errors. Every expected reply below was recorded from redis-server 7.0.15 (Debian's 7.0.15) running the
//! same commands on an empty database.

use crate::common::{expect, Server};

#[test]
fn geoadd_options_and_scores() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2\r\n"),
            ("ZRANGE Sicily 0 -1 WITHSCORES", "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
            ("GEOADD Sicily 13.361389 38.115556 Palermo", ":0\r\n"),
            ("GEOADD Sicily NX CH 13.5 38.115556 Palermo 15 37 X", ":1\r\n"),
            ("GEOADD Sicily XX CH 13.5 38.115556 Palermo 15 37 Y", ":1\r\n"),
            ("GEOADD Sicily ch 13.5 38.115556 Palermo 16 37 X", ":1\r\n"),
            ("ZSCORE Sicily Palermo", "$16\r\n3479100629809192\r\n"),
            ("ZRANGE Sicily 0 -1 WITHSCORES", "*6\r\n$1\r\nX\r\n$16\r\n3476616128291716\r\n$7\r\nPalermo\r\n$16\r\n3479100629809192\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
            ("GEOADD Sicily XX NX 13 38 Palermo", "-ERR syntax error\r\n"),
            ("GEOADD Sicily NX ch ch", "-ERR syntax error\r\n"),
            ("GEOADD Sicily 13 38", "-ERR wrong number of arguments for 'geoadd' command\r\n"),
            ("GEOADD Sicily 13 38 a 14", "-ERR syntax error\r\n"),
            ("GEOADD Sicily 200 100 a", "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"),
            ("GEOADD Sicily 13 85.05112879 a", "-ERR invalid longitude,latitude pair 13.000000,85.051129\r\n"),
            ("GEOADD Sicily -inf 0 a", "-ERR invalid longitude,latitude pair -inf,0.000000\r\n"),
            ("GEOADD Sicily abc 0 a", "-ERR value is not a valid float\r\n"),
            ("GEOADD Sicily nan 0 a", "-ERR value is not a valid float\r\n"),
            ("GEOADD Sicily 13 38 ok 1e400 0 a", "-ERR value is not a valid float\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("GEOADD nokey XX 13 38 a", ":0\r\n"),
            ("EXISTS nokey", ":0\r\n"),
            ("GEOADD edges 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero -0 -0 negzero", ":4\r\n"),
            ("ZRANGE edges 0 -1 WITHSCORES", "*8\r\n$2\r\nsw\r\n$1\r\n0\r\n$7\r\nnegzero\r\n$16\r\n3377699720527872\r\n$4\r\nzero\r\n$16\r\n3377699720527872\r\n$2\r\nne\r\n$17\r\n13510798882111488\r\n"),
            ("SET str x", "+OK\r\n"),
            ("GEOADD str 13 38 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("OBJECT ENCODING Sicily", "$8\r\nlistpack\r\n"),
        ],
    );
}

#[test]
fn geopos_geohash_geodist() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania -0.1275 51.507222 London 180 85.05112878 ne -180 -85.05112878 sw", ":5\r\n"),
            ("GEOPOS Sicily Palermo Catania NonExisting London ne sw", "*6\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*-1\r\n*2\r\n$19\r\n-0.1274988055229187\r\n$20\r\n51.50722081469902491\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n"),
            ("GEOPOS nokey a b", "*2\r\n*-1\r\n*-1\r\n"),
            ("GEOHASH Sicily Palermo Catania NonExisting London ne sw", "*6\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n$11\r\ngcpvj0e5m10\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n"),
            ("GEOHASH nokey a", "*1\r\n$-1\r\n"),
            ("GEODIST Sicily Palermo Catania", "$11\r\n166274.1516\r\n"),
            ("GEODIST Sicily Palermo Catania m", "$11\r\n166274.1516\r\n"),
            ("GEODIST Sicily Palermo Catania KM", "$8\r\n166.2742\r\n"),
            ("GEODIST Sicily Palermo Catania mi", "$8\r\n103.3182\r\n"),
            ("GEODIST Sicily Palermo Catania ft", "$11\r\n545518.8700\r\n"),
            ("GEODIST Sicily Palermo London km", "$9\r\n1824.3954\r\n"),
            ("GEODIST Sicily ne sw", "$13\r\n18919844.5891\r\n"),
            ("GEODIST Sicily Palermo Palermo", "$6\r\n0.0000\r\n"),
            ("GEODIST Sicily Palermo NonExisting", "$-1\r\n"),
            ("GEODIST nokey Palermo Catania", "$-1\r\n"),
            ("GEODIST nokey Palermo Catania yd", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
            ("GEODIST Sicily Palermo Catania yd", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
            ("GEODIST Sicily Palermo Catania km extra", "-ERR syntax error\r\n"),
            ("ZADD Sicily 1e20 big -1 neg 0.5 half", ":3\r\n"),
            ("GEOPOS Sicily big neg half", "*3\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n"),
            ("GEOHASH Sicily big neg half", "*3\r\n$11\r\n00bh0hbj200\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n"),
            ("SET str x", "+OK\r\n"),
            ("GEOPOS str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEOHASH str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEODIST str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEODIST str a b yd", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
            ("HELLO 3", ""),
            ("GEOPOS Sicily Palermo NonExisting", "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"),
            ("GEOPOS nokey a", "*1\r\n_\r\n"),
            ("GEOHASH Sicily Palermo NonExisting", "*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n"),
            ("GEODIST Sicily Palermo Catania", "$11\r\n166274.1516\r\n"),
            ("GEODIST Sicily Palermo NonExisting", "_\r\n"),
            ("GEODIST nokey a b", "_\r\n"),
        ],
    );
}

#[test]
fn georadius_options() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2 13.583333 37.316667 Agrigento", ":5\r\n"),
            ("GEORADIUS Sicily 15 37 200 km", "*3\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"),
            ("GEORADIUS Sicily 15 37 200 km ASC", "*3\r\n$7\r\nCatania\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n"),
            ("GEORADIUS Sicily 15 37 200 km DESC", "*3\r\n$7\r\nPalermo\r\n$9\r\nAgrigento\r\n$7\r\nCatania\r\n"),
            ("GEORADIUS Sicily 15 37 200 km WITHDIST", "*3\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"),
            ("GEORADIUS Sicily 15 37 200 km WITHDIST WITHHASH WITHCOORD ASC", "*3\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n*4\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n:3479030013248308\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"),
            ("GEORADIUS Sicily 15 37 200 km WITHCOORD DESC COUNT 2", "*2\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$9\r\nAgrigento\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 1", "*1\r\n$7\r\nCatania\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 2 DESC", "*2\r\n$7\r\nPalermo\r\n$9\r\nAgrigento\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 1 ANY", "*1\r\n$9\r\nAgrigento\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 2 ANY WITHDIST", "*2\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 2 ANY ASC WITHDIST", "*2\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 100", "*3\r\n$7\r\nCatania\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n"),
            ("GEORADIUS Sicily 15 37 200000 m WITHDIST ASC", "*3\r\n*2\r\n$7\r\nCatania\r\n$10\r\n56441.2579\r\n*2\r\n$9\r\nAgrigento\r\n$11\r\n130423.4871\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n190442.4298\r\n"),
            ("GEORADIUS Sicily 15 37 124.2743 mi WITHDIST ASC", "*3\r\n*2\r\n$7\r\nCatania\r\n$7\r\n35.0711\r\n*2\r\n$9\r\nAgrigento\r\n$7\r\n81.0416\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n118.3357\r\n"),
            ("GEORADIUS Sicily 15 37 656168 ft WITHDIST ASC", "*3\r\n*2\r\n$7\r\nCatania\r\n$11\r\n185174.7305\r\n*2\r\n$9\r\nAgrigento\r\n$11\r\n427898.5796\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n624811.1215\r\n"),
            ("GEORADIUS Sicily 15 37 1 m", "*0\r\n"),
            ("GEORADIUS Sicily 15 37 0 km", "*0\r\n"),
            ("GEORADIUS Sicily 15 37 20000 km COUNT 3 DESC", "*3\r\n$5\r\nedge1\r\n$5\r\nedge2\r\n$7\r\nPalermo\r\n"),
            ("GEORADIUS nokey 15 37 200 km", "*0\r\n"),
            ("GEORADIUS Sicily 15 37 200 km ANY", "-ERR the ANY argument requires COUNT argument\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 0", "-ERR COUNT must be > 0\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT -3", "-ERR COUNT must be > 0\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT abc", "-ERR value is not an integer or out of range\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT", "-ERR syntax error\r\n"),
            ("GEORADIUS Sicily 15 37 200 km COUNT 99999999999999999999", "-ERR value is not an integer or out of range\r\n"),
            ("GEORADIUS Sicily 15 37 200 km NOSUCH", "-ERR syntax error\r\n"),
            ("GEORADIUS Sicily 15 37 -1 km", "-ERR radius cannot be negative\r\n"),
            ("GEORADIUS Sicily 15 37 abc km", "-ERR need numeric radius\r\n"),
            ("GEORADIUS Sicily 15 37 200 yd", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
            ("GEORADIUS Sicily 200 37 200 km", "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"),
            ("GEORADIUS Sicily abc 37 200 km", "-ERR value is not a valid float\r\n"),
            ("GEORADIUS_RO Sicily 15 37 200 km WITHDIST", "*3\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"),
            ("GEORADIUS_RO Sicily 15 37 200 km STORE dst", "-ERR syntax error\r\n"),
            ("GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST", "*4\r\n*2\r\n$9\r\nAgrigento\r\n$7\r\n90.9778\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"),
            ("GEORADIUSBYMEMBER Sicily Palermo 100 km WITHDIST WITHCOORD", "*3\r\n*3\r\n$9\r\nAgrigento\r\n$7\r\n90.9778\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n*3\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*3\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n"),
            ("GEORADIUSBYMEMBER Sicily NonExisting 200 km", "-ERR could not decode requested zset member\r\n"),
            ("GEORADIUSBYMEMBER nokey NonExisting abc km", "*0\r\n"),
            ("GEORADIUSBYMEMBER nokey NonExisting 200 km WITHDIST STORE dst", "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
            ("GEORADIUSBYMEMBER_RO Sicily Catania 100 km COUNT 2 DESC WITHDIST", "*1\r\n*2\r\n$7\r\nCatania\r\n$6\r\n0.0000\r\n"),
            ("GEORADIUSBYMEMBER_RO Sicily Catania 100 km STOREDIST dst", "-ERR syntax error\r\n"),
            ("SET str x", "+OK\r\n"),
            ("GEORADIUS str 15 37 200 km", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEORADIUS str 200 37 200 km", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEORADIUSBYMEMBER str a 200 km", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("HELLO 3", ""),
            ("GEORADIUS Sicily 15 37 200 km WITHDIST WITHHASH WITHCOORD ASC", "*3\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n:3479030013248308\r\n*2\r\n,13.5833314061164856\r\n,37.31666804993816555\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n"),
            ("GEORADIUS Sicily 15 37 200 km", "*3\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"),
            ("GEORADIUS nokey 15 37 200 km", "*0\r\n"),
        ],
    );
}

#[test]
fn georadius_store_and_storedist() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 13.583333 37.316667 Agrigento", ":3\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STORE dst", ":3\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*6\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STOREDIST dst", ":3\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*6\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STOREDIST dst COUNT 2 DESC", ":2\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*4\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"),
            ("GEORADIUS Sicily 15 37 200 mi STOREDIST dst", ":3\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*6\r\n$7\r\nCatania\r\n$18\r\n35.071058862737644\r\n$9\r\nAgrigento\r\n$18\r\n81.041599082323827\r\n$7\r\nPalermo\r\n$18\r\n118.33573380874013\r\n"),
            ("GEORADIUSBYMEMBER Sicily Palermo 100 km STORE dst2", ":2\r\n"),
            ("ZRANGE dst2 0 -1 WITHSCORES", "*4\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST", "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
            ("GEORADIUS Sicily 15 37 200 km WITHHASH STOREDIST dst", "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STORE", "-ERR syntax error\r\n"),
            ("GEORADIUS Sicily 1 1 1 km STORE dst", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("SET dst2 x", "+OK\r\n"),
            ("GEORADIUS nokey 1 1 1 km STORE dst2", ":0\r\n"),
            ("EXISTS dst2", ":0\r\n"),
            ("SET dst3 x", "+OK\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STORE dst3", ":3\r\n"),
            ("TYPE dst3", "+zset\r\n"),
            ("GEORADIUS Sicily 15 37 200 km STORE Sicily", ":3\r\n"),
            ("ZRANGE Sicily 0 -1 WITHSCORES", "*6\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
        ],
    );
}

#[test]
fn geosearch_and_geosearchstore() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.788135 edge2 13.583333 37.316667 Agrigento", ":5\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC", "*3\r\n$7\r\nCatania\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHDIST WITHHASH WITHCOORD", "*3\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n:3479030013248308\r\n*2\r\n$19\r\n13.5833314061164856\r\n$20\r\n37.31666804993816555\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"),
            ("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km ASC WITHDIST", "*4\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$9\r\nAgrigento\r\n$7\r\n90.9778\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST", "*5\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km", "*5\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n$7\r\nCatania\r\n$5\r\nedge2\r\n"),
            ("GEOSEARCH Sicily FROMMEMBER Catania BYBOX 200 100 km DESC WITHCOORD", "*1\r\n*2\r\n$7\r\nCatania\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2", "*2\r\n$7\r\nCatania\r\n$9\r\nAgrigento\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 ANY", "*2\r\n$9\r\nAgrigento\r\n$7\r\nPalermo\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 DESC WITHDIST", "*1\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n"),
            ("GEOSEARCH Sicily BYRADIUS 200 km FROMLONLAT 15 37 WITHDIST", "*3\r\n*2\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km", "-ERR syntax error\r\n"),
            ("GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 200 km", "-ERR syntax error\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km", "-ERR syntax error\r\n"),
            ("GEOSEARCH Sicily BYRADIUS 200 km", "-ERR wrong number of arguments for 'geosearch' command\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37", "-ERR wrong number of arguments for 'geosearch' command\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY", "-ERR the ANY argument requires COUNT argument\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE dst", "-ERR syntax error\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST", "-ERR syntax error\r\n"),
            ("GEOSEARCH Sicily FROMMEMBER NonExisting BYRADIUS 200 km", "-ERR could not decode requested zset member\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km", "-ERR height or width cannot be negative\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX abc 1 km", "-ERR need numeric width\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 abc km", "-ERR need numeric height\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 yd", "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS abc km", "-ERR need numeric radius\r\n"),
            ("GEOSEARCH Sicily FROMLONLAT 200 37 BYRADIUS 1 km", "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"),
            ("geosearch Sicily FROMLONLAT 15 37", "-ERR wrong number of arguments for 'geosearch' command\r\n"),
            ("GEOSEARCH nokey FROMMEMBER NonExisting BYRADIUS 200 km", "*0\r\n"),
            ("GEOSEARCH nokey FROMMEMBER NonExisting BYRADIUS abc km", "-ERR need numeric radius\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km", ":3\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*6\r\n$9\r\nAgrigento\r\n$16\r\n3479030013248308\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST COUNT 2 DESC", ":2\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*4\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST", ":5\r\n"),
            ("ZRANGE dst 0 -1 WITHSCORES", "*10\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$9\r\nAgrigento\r\n$18\r\n130.42348706714702\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n$5\r\nedge2\r\n$17\r\n279.7403417843143\r\n$5\r\nedge1\r\n$18\r\n279.74045213563431\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST", "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x", "-ERR syntax error\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37", "-ERR wrong number of arguments for 'geosearchstore' command\r\n"),
            ("GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 1 m", ":0\r\n"),
            ("EXISTS dst", ":0\r\n"),
            ("GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 1 m", ":0\r\n"),
            ("SET str x", "+OK\r\n"),
            ("GEOSEARCH str FROMLONLAT 15 37 BYRADIUS 1 m", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEOSEARCHSTORE dst str FROMLONLAT 15 37 BYRADIUS 1 m", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ("GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 200 km", ":3\r\n"),
            ("TYPE str", "+zset\r\n"),
            ("HELLO 3", ""),
            ("GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHDIST WITHHASH WITHCOORD", "*5\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$9\r\nAgrigento\r\n$8\r\n130.4235\r\n:3479030013248308\r\n*2\r\n,13.5833314061164856\r\n,37.31666804993816555\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n*4\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n:3481342659049484\r\n*2\r\n,17.24151045083999634\r\n,38.78813451624225195\r\n*4\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n:3479273021651468\r\n*2\r\n,12.7584877610206604\r\n,38.78813451624225195\r\n"),
            ("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km ASC WITHCOORD", "*4\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n*2\r\n$9\r\nAgrigento\r\n*2\r\n,13.5833314061164856\r\n,37.31666804993816555\r\n*2\r\n$5\r\nedge1\r\n*2\r\n,12.7584877610206604\r\n,38.78813451624225195\r\n*2\r\n$7\r\nCatania\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"),
        ],
    );
}

#[test]
fn search_order_of_equal_distances() {
    let s = Server::start();
    let mut r = s.raw();
    expect(
        &mut r,
        &[
            ("GEOADD g 13.02 38.02 a 13.02 38.02 b 13.02 38.02 c 13.04 38.02 d 13.04 38.02 e 13 38 f 13 38 g 13.04 38.04 h 13.04 38.04 i 13.04 38.04 j 13 38.04 k 13 38.04 l 13.02 38 m 13.02 38.04 n", ":14\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km", "*14\r\n$1\r\nm\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nn\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\nk\r\n$1\r\nl\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km ASC", "*14\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nn\r\n$1\r\nm\r\n$1\r\nk\r\n$1\r\nl\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nf\r\n$1\r\ng\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km DESC", "*14\r\n$1\r\nf\r\n$1\r\ng\r\n$1\r\nh\r\n$1\r\ni\r\n$1\r\nj\r\n$1\r\nk\r\n$1\r\nl\r\n$1\r\nm\r\n$1\r\nn\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km COUNT 4", "*4\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nd\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km COUNT 8 DESC", "*8\r\n$1\r\ng\r\n$1\r\nf\r\n$1\r\nh\r\n$1\r\nj\r\n$1\r\ni\r\n$1\r\nl\r\n$1\r\nk\r\n$1\r\nm\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km COUNT 5 ANY", "*5\r\n$1\r\nm\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nn\r\n"),
            ("GEORADIUS g 13.02 38.02 5 km COUNT 5 ANY DESC", "*5\r\n$1\r\nm\r\n$1\r\nn\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
            ("GEOSEARCH g FROMMEMBER a BYBOX 3 3 km COUNT 6 WITHDIST", "*3\r\n*2\r\n$1\r\na\r\n$6\r\n0.0000\r\n*2\r\n$1\r\nb\r\n$6\r\n0.0000\r\n*2\r\n$1\r\nc\r\n$6\r\n0.0000\r\n"),
            ("GEOSEARCH g FROMMEMBER a BYBOX 3 3 km", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"),
        ],
    );
}
