//! Tests of strftime: every directive at a fixed instant, the 12-hour clock, week numbers at
//! year edges, padding flags, offsets and zone names, unknown directives kept literal.

use super::*;
use chrono::TimeZone;

fn at(
    offset_secs: i32,
    (y, mo, d): (i32, u32, u32),
    (h, mi, s): (u32, u32, u32),
    us: u32,
) -> DateTime<FixedOffset> {
    FixedOffset::east_opt(offset_secs)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        + chrono::TimeDelta::microseconds(i64::from(us))
}

fn render(format: &str, t: &DateTime<FixedOffset>) -> String {
    TimeFormat::compile(format).render_to_string(t)
}

/// Tuesday 2024-03-05 07:08:09.012345 +00:00 (day 65 of a leap year).
fn fixed() -> DateTime<FixedOffset> {
    at(0, (2024, 3, 5), (7, 8, 9), 12_345)
}

#[test]
fn every_directive_against_a_fixed_instant() {
    let t = fixed();
    let table = [
        ("%a", "Tue"),
        ("%A", "Tuesday"),
        ("%b", "Mar"),
        ("%h", "Mar"),
        ("%B", "March"),
        ("%c", "Tue Mar  5 07:08:09 2024"),
        ("%C", "20"),
        ("%d", "05"),
        ("%D", "03/05/24"),
        ("%e", " 5"),
        ("%f", "012345"),
        ("%F", "2024-03-05"),
        ("%g", "24"),
        ("%G", "2024"),
        ("%H", "07"),
        ("%I", "07"),
        ("%j", "065"),
        ("%k", " 7"),
        ("%l", " 7"),
        ("%m", "03"),
        ("%M", "08"),
        ("%n", "\n"),
        ("%p", "AM"),
        ("%P", "am"),
        ("%r", "07:08:09 AM"),
        ("%R", "07:08"),
        ("%s", "1709622489"),
        ("%S", "09"),
        ("%t", "\t"),
        ("%T", "07:08:09"),
        ("%u", "2"),
        ("%U", "09"),
        ("%V", "10"),
        ("%w", "2"),
        ("%W", "10"),
        ("%x", "03/05/24"),
        ("%X", "07:08:09"),
        ("%y", "24"),
        ("%Y", "2024"),
        ("%z", "+0000"),
        ("%:z", "+00:00"),
        ("%Z", "UTC"),
        ("%%", "%"),
        ("%Ey %OH %EY", "24 07 2024"),
    ];
    for (format, want) in table {
        assert_eq!(render(format, &t), want, "format {format:?}");
    }
}

#[test]
fn afternoon_and_midnight_twelve_hour_clock() {
    let table = [
        (at(0, (2024, 1, 1), (0, 0, 0), 0), "12 AM am 12"),
        (at(0, (2024, 1, 1), (12, 0, 0), 0), "12 PM pm 12"),
        (at(0, (2024, 1, 1), (23, 0, 0), 0), "11 PM pm 11"),
        (at(0, (2024, 1, 1), (13, 0, 0), 0), "01 PM pm  1"),
    ];
    for (t, want) in table {
        assert_eq!(render("%I %p %P %l", &t), want);
    }
}

#[test]
fn week_numbers_at_year_edges() {
    // 2021-01-01 is a Friday: ISO week 53 of 2020, %U and %W week 0.
    let t = at(0, (2021, 1, 1), (0, 0, 0), 0);
    assert_eq!(
        render("%U %W %V %G %g %j %u %w", &t),
        "00 00 53 2020 20 001 5 5"
    );
    // 2023-01-01 is a Sunday: %U week 1, %W week 0.
    let t = at(0, (2023, 1, 1), (0, 0, 0), 0);
    assert_eq!(render("%U %W %V %a", &t), "01 00 52 Sun");
    // 2024-12-30 (Monday) belongs to ISO 2025 week 1.
    let t = at(0, (2024, 12, 30), (0, 0, 0), 0);
    assert_eq!(render("%G-W%V-%u %j", &t), "2025-W01-1 365");
}

#[test]
fn padding_flags() {
    let t = at(0, (2024, 3, 5), (7, 8, 9), 0);
    let table = [
        ("%-d", "5"),
        ("%-m", "3"),
        ("%-H", "7"),
        ("%-I", "7"),
        ("%-M", "8"),
        ("%-S", "9"),
        ("%-j", "65"),
        ("%_d", " 5"),
        ("%_H", " 7"),
        ("%_j", " 65"),
        ("%0e", "05"),
        ("%0k", "07"),
        ("%-e", "5"),
        ("%-k", "7"),
        ("%-l", "7"),
        ("%5d", "00005"),
        ("%_5Y", " 2024"),
        ("%^a %^B", "TUE MARCH"),
        ("%#p %#b", "am MAR"),
        ("%^P", "am"),
        ("%^p", "AM"),
        ("%10B", "     March"),
        ("%-y", "24"),
        ("%4Z", " UTC"),
        ("%04Z", "0UTC"),
        ("%#6Z", "   utc"),
    ];
    for (format, want) in table {
        assert_eq!(render(format, &t), want, "format {format:?}");
    }
}

#[test]
fn epoch_keeps_trailing_zeros_and_is_zone_independent() {
    let t = DateTime::from_timestamp(1_600_000_000, 0)
        .unwrap()
        .with_timezone(&FixedOffset::east_opt(-5 * 3600).unwrap());
    assert_eq!(render("%s", &t), "1600000000");
    let t = DateTime::from_timestamp(1_600_000_010, 0)
        .unwrap()
        .fixed_offset();
    assert_eq!(render("%s", &t), "1600000010");
    let t = DateTime::from_timestamp(-1, 0).unwrap().fixed_offset();
    assert_eq!(render("%s", &t), "-1");
}

#[test]
fn offsets_and_zone_names() {
    let table = [
        (-5 * 3600, "-0500 -05:00 UTC-05:00"),
        (-(9 * 3600 + 30 * 60), "-0930 -09:30 UTC-09:30"),
        (5 * 3600 + 45 * 60, "+0545 +05:45 UTC+05:45"),
        (0, "+0000 +00:00 UTC"),
        (3600 + 7, "+010007 +01:00:07 UTC+01:00:07"),
    ];
    for (secs, want) in table {
        let t = at(secs, (2024, 6, 1), (12, 0, 0), 0);
        assert_eq!(render("%z %:z %Z", &t), want, "offset {secs}");
    }
    let t = at(-5 * 3600, (2024, 6, 1), (12, 0, 0), 0);
    assert_eq!(render("%H %Y-%m-%d", &t), "12 2024-06-01");
    assert_eq!(render("%#Z", &at(0, (2024, 1, 1), (0, 0, 0), 0)), "utc");
}

#[test]
fn microseconds() {
    let table = [
        (0, "000000"),
        (1, "000001"),
        (999_999, "999999"),
        (120_000, "120000"),
    ];
    for (us, want) in table {
        let t = at(0, (2024, 1, 1), (0, 0, 0), us);
        assert_eq!(render("%f", &t), want);
    }
    assert_eq!(render("%S.%f", &fixed()), "09.012345");
}

#[test]
fn unknown_directives_stay_literal() {
    let t = fixed();
    let table = [
        ("%Q", "%Q"),
        ("%N", "%N"),
        ("%-Q", "%-Q"),
        ("%-f", "%-f"),
        ("%Ed", "%Ed"),
        ("abc%", "abc%"),
        ("%é", "%é"),
        ("%%s", "%s"),
        ("%%%Y", "%2024"),
        ("[%Y]", "[2024]"),
    ];
    for (format, want) in table {
        assert_eq!(render(format, &t), want, "format {format:?}");
    }
}

#[test]
fn classification() {
    let table = [
        ("plain text", false, false),
        ("100%%", false, false),
        ("%Q%n", false, false),
        ("%Y", true, false),
        ("%H:%M:%S.%f", true, true),
        ("%-f", false, false),
        ("%%f", false, false),
    ];
    for (format, directives, subsecond) in table {
        let f = TimeFormat::compile(format);
        assert_eq!(f.has_directives(), directives, "{format:?}");
        assert_eq!(f.is_subsecond(), subsecond, "{format:?}");
    }
}

#[test]
fn render_appends_without_reallocating() {
    let f = TimeFormat::compile("%Y-%m-%dT%H:%M:%S.%f%z %a %B %s");
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"x=");
    let ptr = out.as_ptr();
    f.render(&fixed(), &mut out);
    assert_eq!(out.as_ptr(), ptr);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "x=2024-03-05T07:08:09.012345+0000 Tue March 1709622489"
    );
}
