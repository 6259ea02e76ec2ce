//! Traditional characters common in names, with their simplified forms: a name typed in one and
//! printed (or read) in the other is the same name. Not a full conversion table: the characters
//! of the frequent surnames and given names, where a one-to-one mapping holds.

const PAIRS: &str = "張张陳陈劉刘黃黄趙赵吳吴楊杨鄭郑蘇苏葉叶蕭萧馮冯鄧邓許许謝谢韓韩羅罗孫孙馬马紅红麗丽東东\
    傑杰濤涛軍军強强豔艳艷艳蘭兰鳳凤嬌娇瑩莹潔洁鵬鹏飛飞輝辉剛刚寶宝義义興兴勝胜貴贵榮荣愛爱\
    鐵铁廣广雲云龐庞錢钱歐欧陽阳買买熱热爾尔麥麦鄒邹譚谭盧卢閻阎賈贾鍾钟陸陆壽寿學学聖圣寧宁\
    慶庆華华偉伟國国龍龙長长門门閔闵聞闻關关範范歸归顧顾龔龚魯鲁賴赖鄔邬湯汤費费鮑鲍韋韦連连\
    畢毕單单蔣蒋滿满莊庄儀仪嶽岳樂乐萬万鳴鸣瓊琼銘铭鋒锋錦锦綺绮維维緒绪純纯雙双懷怀憶忆穎颖\
    婭娅嬋婵燁烨煒炜熾炽曉晓暉晖棟栋樺桦楓枫權权歡欢氣气漢汉澤泽濱滨瀟潇為为燦灿爺爷獻献璽玺\
    環环產产畫画發发碩硕禮礼禎祯稱称穩稳競竞築筑節节簡简紀纪約约級级納纳紹绍經经綠绿線线練练\
    縣县總总繼继續续罷罢聰聪聲声肅肃脈脉腦脑舉举艦舰萊莱葦苇蓮莲藝艺蘊蕴虛虚號号衛卫覺觉親亲\
    誠诚詩诗誼谊諾诺謙谦護护讓让豐丰貞贞賢贤贊赞躍跃輕轻農农運运進进遠远遼辽邁迈鄉乡郵邮醫医\
    釗钊鈞钧鈺钰銀银鋼钢錫锡鎮镇閃闪開开閣阁闊阔陣阵陰阴際际雖虽雞鸡離离靈灵靜静頌颂順顺預预\
    頤颐頻频顏颜願愿風风餘余駿骏騰腾驊骅體体鬱郁鳥鸟鴻鸿鶴鹤齊齐";

/// The simplified form of a character, or the character itself.
pub fn simplified(c: char) -> char {
    let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
    chars
        .chunks_exact(2)
        .find(|p| p[0] == c)
        .map_or(c, |p| p[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_name_characters_map_to_simplified() {
        let s: String = "張偉華".chars().map(simplified).collect();
        assert_eq!(s, "张伟华");
        assert_eq!(simplified('李'), '李');
        // Every pair is a traditional and a simplified character, not a stray half.
        let chars: Vec<char> = PAIRS.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(chars.len() % 2, 0);
    }
}
