//! Tests of `domain::ocr_text`.

use super::*;

fn line(t: &str) -> OcrLine {
    OcrLine {
        text: t.into(),
        words: Vec::new(),
        confs: Vec::new(),
    }
}

fn boxed(words: &[(&str, u32, u32)]) -> OcrLine {
    OcrLine {
        text: words.iter().map(|w| w.0).collect(),
        words: words
            .iter()
            .map(|&(w, left, top)| {
                let b = PixelBox {
                    left,
                    top,
                    width: 30 * w.chars().count() as u32,
                    height: 30,
                };
                (w.to_owned(), b)
            })
            .collect(),
        confs: vec![90.0; words.len()],
    }
}

#[test]
fn the_number_is_read_through_common_confusions() {
    assert_eq!(
        id_number_in("公民身份号码44030419900307123X")
            .unwrap()
            .as_str(),
        "44030419900307123X"
    );
    assert_eq!(
        id_number_in("号码 44O3O41990O3O7I23x").unwrap().as_str(),
        "44030419900307123X"
    );
    // One digit wrong fails the check character: nothing is read rather than a wrong number.
    assert!(id_number_in("44030419900307124X").is_none());
}

#[test]
fn the_name_follows_its_label() {
    let lines = [line("姓名张三丰"), line("性别男民族汉")];
    assert_eq!(find_name(&lines).unwrap().0, "张三丰");
    assert_eq!(
        find_name(&[line("姓名:买买提·艾力")]).unwrap().0,
        "买买提·艾力"
    );
    assert!(find_name(&[line("姓名")]).is_none());
}

#[test]
fn a_spaced_label_is_found_by_its_characters() {
    // Split into two words, a stray mark between, merged with the name, dots misread.
    for (text, name) in [
        ("姓名张三丰", "张三丰"),
        ("姓.名张三丰", "张三丰"),
        ("姓|名|张|三丰", "张三丰"),
        ("灶姓'名:欧阳娜", "欧阳娜"),
        ("姓名买买提•艾力", "买买提·艾力"),
        ("姓名买买提・艾力", "买买提·艾力"),
    ] {
        assert_eq!(find_name(&[line(text)]).unwrap().0, name, "{text}");
    }
    // 性别 is not the label, nor is 名 inside a line.
    assert!(find_name(&[line("性别男"), line("地址广东省名城路")]).is_none());
    // The label lost (read as Latin letters): the row above 性别 holds the name.
    let lost = [
        line("es胡强丽"),
        line("性别男em汉"),
        line("出生1998年4月10日"),
    ];
    assert_eq!(find_name(&lost).unwrap().0, "胡强丽");
    assert!(find_name(&[line("es胡强丽"), line("出生1998年")]).is_none());
    // The label's 姓 misread: its 名 at the start of the line still marks it.
    assert_eq!(find_name(&[line("符名欧阳英静")]).unwrap().0, "欧阳英静");
    assert_eq!(label_end("性 别", "性别", 2), Some("性 别".len()));
    assert_eq!(label_end("性别男", "性别", 2), Some("性别".len()));
}

#[test]
fn a_name_on_a_line_of_its_own_is_read_beside_its_label() {
    // The OCR made the label one line and the name (larger, another typeface) another;
    // the name's line is at the label's height, the address below is not taken.
    let lines = [
        boxed(&[("姓", 50, 50), ("名", 110, 50)]),
        boxed(&[("张", 160, 40), ("三丰", 200, 42)]),
        boxed(&[("住址广东省", 50, 250)]),
    ];
    let (name, from) = find_name(&lines).unwrap();
    assert_eq!(name, "张三丰");
    assert_eq!(from.box_of(&name).left, 160);
    // The label read as one stray ideograph, the portrait's edge read as another far right:
    // the name is what stands right of the labels' column, up to the wide gap.
    let lost = [
        boxed(&[
            ("全", 50, 50),
            ("黄海", 160, 45),
            ("强", 220, 45),
            ("围", 600, 60),
        ]),
        boxed(&[
            ("性别", 50, 120),
            ("男", 160, 118),
            ("民族", 260, 120),
            ("汉", 370, 118),
        ]),
    ];
    assert_eq!(find_name(&lost).unwrap().0, "黄海强");
    // A line far below the label is not beside it.
    let lower = [
        boxed(&[("姓", 50, 50), ("名", 110, 50)]),
        boxed(&[("张三丰", 160, 140)]),
    ];
    assert!(find_name(&lower).is_none());
}

#[test]
fn validity_periods() {
    let v = |t: &str| find_validity(&[line(t)]).map(|(v, _)| v);
    assert_eq!(
        v("有效期限2016.03.01-2036.03.01"),
        Some(ValidUntil::Date(
            NaiveDate::from_ymd_opt(2036, 3, 1).unwrap()
        ))
    );
    assert_eq!(v("有效期限2016.03.01一长期"), Some(ValidUntil::LongTerm));
    assert_eq!(v("有效期限2036.03.01-2016.03.01"), None);
    let until = v("有效期限2006.03.01-2016.03.01").unwrap();
    assert!(until.expired_on(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()));
    assert!(!ValidUntil::LongTerm.expired_on(NaiveDate::from_ymd_opt(2099, 1, 1).unwrap()));
}

#[test]
fn tsv_words_group_into_lines() {
    let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
               5\t1\t1\t1\t1\t1\t10\t20\t30\t12\t90\t姓名\n\
               5\t1\t1\t1\t1\t2\t50\t18\t60\t14\t88\t张 三\n\
               5\t1\t1\t1\t2\t1\t10\t60\t200\t12\t91\t44030419900307123X\n";
    let lines = parse_tsv(tsv);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].text, "姓名张三");
    let name = find_name(&lines).unwrap();
    let b = name.1.box_of(&name.0);
    assert_eq!((b.left, b.top, b.width, b.height), (50, 18, 60, 14));
    let (id, l) = find_id_number(&lines).unwrap();
    assert_eq!(l.box_of(id.as_str()).top, 60);
}
