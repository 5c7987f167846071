"""Chinese names (with pinyin for userids), companies, departments: raw material for seeding."""

from __future__ import annotations

import random

SURNAMES: list[tuple[str, str]] = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("邓", "deng"), ("冯", "feng"), ("韩", "han"), ("曹", "cao"),
    ("欧阳", "ouyang"), ("司马", "sima"),
]  # fmt: skip

GIVEN: list[tuple[str, str]] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("文", "wen"), ("晓", "xiao"), ("婷", "ting"), ("雪", "xue"), ("宇", "yu"),
    ("浩", "hao"), ("子", "zi"), ("欣", "xin"), ("嘉", "jia"), ("怡", "yi"), ("思", "si"),
]  # fmt: skip

NICKNAMES = [
    "快乐每一天", "追风少年", "阳光", "小确幸", "Lily", "Jason", "简单生活", "向日葵", "海阔天空",
    "微笑", "安静的美男子", "Coco", "大橙子", "风中的云", "Tony", "momo", "一路向北", "知足常乐",
]  # fmt: skip

COMPANIES = [
    "华信科技有限公司", "远航贸易有限公司", "盛达物流有限公司", "青禾教育科技有限公司",
    "金桥投资管理有限公司", "星辰传媒有限公司", "恒通建材有限公司", "蓝海医疗器械有限公司",
    "博远咨询有限公司", "瑞丰食品有限公司",
]  # fmt: skip

DEPARTMENT_WORDS = [
    "销售", "市场", "客服", "运营", "技术", "产品", "财务", "人事", "行政", "法务", "华东", "华南",
    "华北", "西南", "大客户", "渠道", "电商", "品牌", "培训", "质量",
]  # fmt: skip

DEPARTMENT_SUFFIXES = ["部", "中心", "组", "一组", "二组", "事业部", "区"]

POSITIONS = ["销售顾问", "客户经理", "客服专员", "销售主管", "区域经理", "运营专员", "总监"]

TAG_GROUPS: list[tuple[str, list[str]]] = [
    ("客户等级", ["重要客户", "普通客户", "潜在客户", "VIP"]),
    ("来源渠道", ["线下活动", "官网", "朋友推荐", "公众号", "抖音", "展会"]),
    ("意向产品", ["基础版", "专业版", "企业版", "定制服务"]),
    ("客户阶段", ["初次接触", "需求确认", "方案报价", "商务谈判", "已成交", "已流失"]),
    ("行业", ["教育", "医疗", "零售", "制造", "金融", "互联网", "地产"]),
    ("地区", ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉"]),
]  # fmt: skip


def person_name(rng: random.Random) -> tuple[str, str]:
    """A Chinese full name and its pinyin (for userids)."""
    surname, surname_py = rng.choice(SURNAMES)
    parts = [rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))]
    return surname + "".join(p[0] for p in parts), surname_py + "".join(p[1] for p in parts)


def customer_name(rng: random.Random) -> str:
    """WeChat display names: mostly real names, some nicknames."""
    if rng.random() < 0.25:
        return rng.choice(NICKNAMES)
    return person_name(rng)[0]
